"""Untracked names counted in the store: per document and per source, known words skipped."""

import redis

from worker.store import Store


def test_names_are_counted_per_document_and_source_and_known_ones_skipped(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    store.first_sightings("t", (), ["kim", "jong", "un", "seoul"])
    names = {"Kim Jong Un": ["kim", "jong", "un"], "Kim Yong Bok": ["kim", "yong", "bok"]}
    assert store.record_sightings("t", (), names, "doc-1", "Alpha")[1] == {"Kim Yong Bok": (1, 1)}
    assert store.record_sightings("t", (), names, "doc-2", "Alpha")[1] == {"Kim Yong Bok": (2, 1)}
    # The same document read again (a redelivered task) is not a further document.
    assert store.record_sightings("t", (), names, "doc-2", "Beta")[1] == {"Kim Yong Bok": (2, 2)}
    assert store.record_sightings("t", (), {}, "doc-3", "Beta")[1] == {}


def test_entities_are_sighted_once_in_the_call_that_counts_names(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    store.first_sightings("t", (), ["kim", "jong", "un"])
    names = {"Kim Yong Bok": ["kim", "yong", "bok"]}
    first, counted = store.record_sightings("t", ["nk", "ru", "nk"], names, "doc-1", "Alpha")
    assert (first, counted) == ({"nk", "ru"}, {"Kim Yong Bok": (1, 1)})
    first, counted = store.record_sightings("t", ["ru", "kr"], {}, "doc-2", "Alpha")
    assert (first, counted) == ({"kr"}, {})
    # Sighted the same way by a document that does not alert.
    assert store.first_sightings("t", ["kr", "ua"], ["yong", "bok"]) == {"ua"}
    assert store.record_sightings("t", (), names, "doc-3", "Beta")[1] == {}  # every word known now

"""A topic's document numbers: from its counter, or past the disk's highest when the
counter is gone."""

from __future__ import annotations

import redis

from worker.store import Store


def test_the_disk_is_read_only_when_the_counter_is_missing(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    reads: list[int] = []

    def floor() -> int:
        reads.append(41)
        return 41

    assert store.next_sequence("t", floor) == 42
    assert store.next_sequence("t", floor) == 43
    assert reads == [41]
    store.r.flushall()  # Redis lost its data: numbers go on past the disk's
    assert store.next_sequence("t", floor) == 42
    assert reads == [41, 41]


def test_the_view_numbers_a_document_only_when_nothing_could_be_its_original(
    redis_url: str,
) -> None:
    """Taken with the view under the lock, a number is never spent on a copy: the next
    new document gets the next number, whichever call handed it out."""
    import numpy as np

    from worker.articles.corpus import HeldDocument
    from worker.store import keys as keyspace

    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    store.mark_bootstrapped("t")
    assert store.topic_view("t", "a", "sha-a", ["0:abc123"]).number is None  # no counter yet
    assert store.next_sequence("t", lambda: 0) == 1
    assert store.topic_view("t", "a", "sha-a", ["0:abc123"]).number == 2
    held = HeldDocument(file="002-a.txt", sha256="sha-a", url="", title="A", source="x")
    store.hold_document("t", "a", held, np.zeros(4, dtype=np.uint32), ["0:abc123"])
    # The same id, the same text, a shared bucket: each may be no new document.
    assert store.topic_view("t", "a", "sha-b", ["0:fff000"]).number is None
    assert store.topic_view("t", "b", "sha-a", ["0:fff000"]).number is None
    assert store.topic_view("t", "b", "sha-b", ["0:abc123"]).number is None
    assert store.next_sequence("t", lambda: 0) == 3
    assert store.topic_view("t", "c", "sha-c", ["0:fff000"]).number == 4
    store.r.delete(keyspace.topic_ready("t"))  # not loaded: the topic's seeds come first
    assert store.topic_view("t", "d", "sha-d", ["0:eee000"]).number is None

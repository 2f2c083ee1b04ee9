"""A dated sequence of articles replayed through the pipeline yields exactly the expected
alerts: troop numbers rise over weeks, outlets repeat and translate each other."""

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from tests.support import write_config
from worker import pipeline
from worker.alerts.events import payload
from worker.articles import Document
from worker.articles.corpus import document_id
from worker.config import load_config

STORY = [
    # (date, outlet, language, url slug, text)
    (
        "2024-10-30",
        "kabar",
        "id",
        "k1",
        "Pentagon mengatakan Korea Utara telah mengirim sekitar 10.000 tentara ke Rusia.\n"
        "Para pejabat di Washington menyebut pasukan itu sedang berlatih di Timur Jauh.",
    ),
    (
        "2024-11-02",
        "daily",
        "en",
        "d0",
        "The regional election commission published the schedule of televised debates.\n"
        "Candidates must submit their programmes three days before each debate.",
    ),
    (
        "2024-11-05",
        "wire",
        "en",
        "w1",
        "About 10,400 North Korean troops are now in Russia, officials in Seoul said.\n"
        "The soldiers arrived by train over the past week.",
    ),
    (
        "2024-11-13",
        "wire",
        "en",
        "w2",
        "Ukraine's defence intelligence says 11,000 North Korean troops are now in Russia.\n"
        "General Kim Yong Bok was seen with Russian commanders near the front in Kursk.\n"
        "The soldiers completed training at ranges in the Far East before moving west.",
    ),
    (
        "2024-11-13",
        "nusantara",
        "id",
        "n1",
        "Intelijen Ukraina menyebut 11.000 tentara Korea Utara kini berada di Rusia.\n"
        "Jenderal Kim Yong Bok terlihat bersama para komandan Rusia di dekat Kursk.",
    ),
    (
        "2024-11-20",
        "wire",
        "en",
        "w3",
        "North Korea plans to send 15,000 troops to Russia next year, lawmakers in Seoul were "
        "told.\nThe deployment would be the largest abroad in decades.",
    ),
    (
        "2024-11-25",
        "kabar",
        "en",
        "k2",
        "Ukraine's defence intelligence says 11,000 North Korean troops are now in Russia.\n"
        "General Kim Yong Bok was seen with Russian commanders near the front in Kursk.\n"
        "The soldiers completed training at ranges in the Far East before moving west.\n"
        "An updated estimate puts the number at 12,000 North Korean soldiers in Russia.",
    ),
    (
        "2024-12-02",
        "daily",
        "en",
        "d1",
        "Britain estimates that more than 700,000 Russian soldiers have been killed or wounded.\n"
        "General Kim Yong Bok now commands the North Korean contingent in Kursk, Russia.",
    ),
    (
        "2024-12-03",
        "wire",
        "en",
        "w2",  # the same URL and text again: nothing new
        "Ukraine's defence intelligence says 11,000 North Korean troops are now in Russia.\n"
        "General Kim Yong Bok was seen with Russian commanders near the front in Kursk.\n"
        "The soldiers completed training at ranges in the Far East before moving west.",
    ),
    (
        "2024-12-04",
        "kabar",
        "id",
        "k3",
        "Dalam serangan itu, 2.000 tentara Korea Utara tewas di Kursk, Rusia.\n"
        "Angka tersebut belum dapat dikonfirmasi secara independen.",
    ),
]


@pytest.fixture
def runtime(tmp_path: Path, redis_url: str) -> pipeline.Runtime:
    # A story from 2024 replayed today: no entry is too old to alert.
    config = write_config(tmp_path, topic_overrides={"max_age": "36500d"})
    return pipeline.Runtime(load_config(config), redis_url)


def replay(rt: pipeline.Runtime, counts: Counter | None = None) -> list[dict]:
    events = []
    for date, outlet, language, slug, text in STORY:
        url = f"https://{outlet}.example/{slug}"
        document = Document(
            id=document_id(url),
            url=url,
            canonical_url=url,
            title=slug,
            text=text,
            published=datetime.fromisoformat(date),
            language=language,
            source=outlet,
        )
        result = pipeline.process_document(rt, document, ["nk-troops-russia"], None)
        events += result.events
        if counts is not None:
            counts.update(result.counts())
    return [payload(e) for e in events]


def test_the_story_yields_exactly_the_expected_alerts(runtime: pipeline.Runtime) -> None:
    events = replay(runtime)
    summary = [
        (
            e["type"],
            e.get("figure", {}).get("id"),
            (e.get("previous") or {}).get("value"),
            (e.get("current") or {}).get("value"),
            e.get("entity", {}).get("name"),
        )
        for e in events
    ]
    assert summary == [
        ("figure.changed", "nk_troops_in_russia", 10000, 11000, None),
        ("figure.changed", "nk_troops_in_russia", 11000, 12000, None),
        ("figure.changed", "ru_casualties", 600000, 700000, None),
        ("entity.emerging", None, None, None, "Kim Yong Bok"),
    ]
    first = events[0]
    assert first["current"]["document"]["source"] == "wire"
    assert first["previous"]["quote"].startswith("Pentagon mengonfirmasi")
    assert first["sources"] == 1


def test_repeats_add_sources_and_copies_are_recorded(runtime: pipeline.Runtime) -> None:
    counts: Counter = Counter()
    replay(runtime, counts)
    figure = runtime.store.figure("nk-troops-russia", "nk_troops_in_russia").confirmed
    assert figure is not None and figure.value == 12000
    history = runtime.store.figure_history("nk-troops-russia", "nk_troops_in_russia")
    assert [h.reading.value for h in history] == [10000, 11000, 12000]
    assert counts == {"off_topic": 1, "copies": 1, "unchanged": 1, "documents": 7}
    manifest = (
        runtime.config.corpus_dir(runtime.config.topics["nk-troops-russia"]) / "manifest.jsonl"
    ).read_text()
    assert '"duplicate_of": "' + document_id("https://wire.example/w2") in manifest


def test_replaying_twice_raises_no_alert_twice(runtime: pipeline.Runtime) -> None:
    assert len(replay(runtime)) == 4
    assert replay(runtime) == []


def test_a_tracked_entity_first_named_raises_first_seen_once(
    tmp_path: Path, redis_url: str
) -> None:
    config = write_config(
        tmp_path,
        topic_overrides={
            "entities": {
                "north-korea": ["Korea Utara", "North Korea", "North Korean"],
                "russia": ["Rusia", "Russia", "Russian"],
                "wagner": ["Wagner", "Grup Wagner"],
            }
        },
    )
    rt = pipeline.Runtime(load_config(config), redis_url)
    topic = rt.config.topics["nk-troops-russia"]
    texts = [
        "Grup Wagner disebut melatih pasukan Korea Utara di dekat perbatasan Rusia.",
        "Wagner kembali disebut dalam laporan tentang Korea Utara dan Rusia.",
    ]
    events = []
    for n, text in enumerate(texts):
        url = f"https://x.example/{n}"
        document = Document(
            id=document_id(url),
            url=url,
            canonical_url=url,
            title="t",
            text=text,
            published=None,
            language="id",
            source="x",
        )
        events += pipeline.ingest_document(rt, topic, document, None).events
    assert [(e.type, e.entity.id) for e in events] == [("entity.first_seen", "wagner")]
    assert events[0].quote == texts[0]


def test_a_document_that_turns_too_old_while_read_teaches_its_names(
    runtime: pipeline.Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document read as one that alerts but too old by the time it is stored alerts
    nothing, and its names count as known: later articles naming them suggest nothing."""
    story = {slug: (date, outlet, language, text) for date, outlet, language, slug, text in STORY}

    def document(slug: str) -> Document:
        date, outlet, language, text = story[slug]
        url = f"https://{outlet}.example/{slug}"
        return Document(
            id=document_id(url),
            url=url,
            canonical_url=url,
            title=slug,
            text=text,
            published=datetime.fromisoformat(date),
            language=language,
            source=outlet,
        )

    verdicts = iter([False, True])  # fresh when read, too old under the topic's lock
    too_old = pipeline._too_old
    monkeypatch.setattr(pipeline, "_too_old", lambda *args: next(verdicts))
    silent = pipeline.process_document(runtime, document("w2"), ["nk-troops-russia"], None)
    assert silent.events == []
    monkeypatch.setattr(pipeline, "_too_old", too_old)
    events = []
    for slug in ("n1", "k2", "d1"):
        result = pipeline.process_document(runtime, document(slug), ["nk-troops-russia"], None)
        events += [payload(e) for e in result.events]
    assert [e for e in events if e["type"] == "entity.emerging"] == []
    assert any(e["type"] == "figure.changed" for e in events)

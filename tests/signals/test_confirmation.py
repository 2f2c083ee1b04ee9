"""Issue 12's figure semantics through the pipeline's signal stage and a real Redis:
projections never freeze a figure, a far jump waits for a second source, and readings
arriving out of publication order give the alerts and history of the publication order."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import write_config
from worker import pipeline
from worker.alerts.events import FigureChanged
from worker.articles import Document
from worker.articles.corpus import document_id
from worker.config import load_config
from worker.signals.changes import DocumentRef
from worker.signals.figures import FigureObservation

TOPIC = "nk-troops-russia"
FIGURE = "nk_troops_in_russia"
DAY = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def rt(tmp_path: Path, redis_url: str) -> pipeline.Runtime:
    return runtime(tmp_path, redis_url)


def runtime(folder: Path, redis_url: str) -> pipeline.Runtime:
    """The example topic without seeds, where every reading counts (tolerance 0), as in
    the issue's examples."""
    topic = load_config(write_config(folder)).topics[TOPIC]
    figures = {k: v.model_dump() for k, v in topic.figures.items()}
    figures[FIGURE]["tolerance"] = 0.0
    config = write_config(folder, topic_overrides={"figures": figures, "seeds": None})
    return pipeline.Runtime(load_config(config), redis_url)


def reading(
    rt: pipeline.Runtime,
    value: float,
    source: str,
    day: int,
    qualifier: str = "exact",
    name: str | None = None,
) -> list:
    """One document stating `value` troops, published on `day`, through apply_signals."""
    url = f"https://{source}.example/{name or f'{value:g}-{day}'}"
    ref = DocumentRef(
        id=document_id(url),
        url=url,
        source=source,
        published=(DAY + timedelta(days=day)).isoformat(),
        date_source="feed",
    )
    quote = f"{value:,.0f} North Korean troops are in Russia."
    signals = pipeline.Signals(
        observations=(FigureObservation(FIGURE, value, None, qualifier, quote, 1),),
        entities=(),
        names=(),
        name_keys=frozenset(),
    )
    topic = rt.config.topics[TOPIC]
    with rt.store.topic_lock(TOPIC):
        pipeline.bootstrap_topic(rt, topic)
        return pipeline.apply_signals(rt, topic, signals, ref, emit=True)


def changes(events: list) -> list[tuple[float | None, float, int]]:
    return [
        (e.previous.value if e.previous else None, e.current.value, e.sources)
        for e in events
        if isinstance(e, FigureChanged)
    ]


def test_a_projection_does_not_freeze_the_figure(rt: pipeline.Runtime) -> None:
    events = reading(rt, 2000, "a", 1)
    events += reading(rt, 10000, "b", 2, qualifier="planned")  # "could top 10,000"
    events += reading(rt, 2056, "c", 3)
    events += reading(rt, 3000, "d", 4)
    assert changes(events) == [(None, 2000, 1), (2000, 2056, 1), (2056, 3000, 1)]


def test_a_single_source_jump_waits_for_a_second_source(rt: pipeline.Runtime) -> None:
    events = reading(rt, 2000, "a", 1)
    held = reading(rt, 10000, "b", 2)
    assert changes(held) == []
    state = rt.store.figure(TOPIC, FIGURE)
    assert [c.value for c in state.unconfirmed] == [10000]
    assert changes(reading(rt, 2100, "c", 3)) == [(2000, 2100, 1)]
    confirmed = reading(rt, 10000, "d", 4)
    assert changes(confirmed) == [(2100, 10000, 2)]
    assert changes(events) == [(None, 2000, 1)]


def test_out_of_order_arrival_gives_the_same_alerts_and_history(
    tmp_path: Path, redis_url: str
) -> None:
    story = [(2000, "a", 1), (2000, "b", 2), (2600, "c", 3), (2600, "d", 4), (3000, "e", 5)]

    def run(order: list[int], folder: Path) -> tuple[list, list]:
        rt = runtime(folder, redis_url)
        rt.store.r.flushall()
        events = []
        for index in order:
            value, source, day = story[index]
            events += reading(rt, value, source, day)
        history = [
            (s.reading.value, s.reading.published, sorted(s.reading.sources), s.previous)
            for s in rt.store.figure_history(TOPIC, FIGURE)
        ]
        return changes(events), history

    in_order = run([0, 1, 2, 3, 4], tmp_path / "in-order")
    # The repeats arrive after the newer reports they preceded.
    shuffled = run([0, 2, 4, 1, 3], tmp_path / "shuffled")
    assert in_order == shuffled
    assert in_order[1] == [
        (2000, "2026-11-02T00:00:00+00:00", ["a", "b"], None),
        (2600, "2026-11-04T00:00:00+00:00", ["c", "d"], 2000),
        (3000, "2026-11-06T00:00:00+00:00", ["e"], 2600),
    ]


def test_reindex_keeps_publication_dates(tmp_path: Path, redis_url: str) -> None:
    config = write_config(tmp_path, topic_overrides={"max_age": "36500d"})
    rt = pipeline.Runtime(load_config(config), redis_url)
    topic = rt.config.topics[TOPIC]
    texts = {
        3: "Ukraine's defence intelligence says 11,000 North Korean troops are now in Russia, "
        "most of them in the Kursk region.\nThe soldiers arrived by train last week.",
        9: "South Korea's spy agency told lawmakers in Seoul that 12,000 North Korean troops "
        "are deployed in Russia.\nMore artillery crews are expected early next year.",
    }
    for day, text in texts.items():
        url = f"https://wire.example/{day}"
        document = Document(
            id=document_id(url),
            url=url,
            canonical_url=url,
            title=f"d{day}",
            text=text,
            published=DAY + timedelta(days=day),
            language="en",
            source="wire",
        )
        pipeline.ingest_document(rt, topic, document, None)
    before = [
        (s.reading.value, s.reading.document.published, s.reading.document.date_source)
        for s in rt.store.figure_history(TOPIC, FIGURE)
    ]
    assert [b[1] for b in before[1:]] == [(DAY + timedelta(days=d)).isoformat() for d in (3, 9)]
    rt.store.flush_indexes()
    pipeline.reindex_topic(rt, topic)
    after = [
        (s.reading.value, s.reading.document.published, s.reading.document.date_source)
        for s in rt.store.figure_history(TOPIC, FIGURE)
    ]
    assert after == before


def test_figures_shows_ranges_unconfirmed_readings_and_dates(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from worker.cli import cli

    rt = runtime(tmp_path, redis_url)
    reading(rt, 2000, "a", 1)
    reading(rt, 9000, "b", 2)  # more than twice the confirmed value, one source: held
    url = "https://c.example/range"
    ref = DocumentRef(
        id=document_id(url),
        url=url,
        source="c",
        published=(DAY + timedelta(days=3)).isoformat(),
        date_source="feed",
    )
    signals = pipeline.Signals(
        observations=(
            FigureObservation(FIGURE, 2500, 3000, "about", "about 2,500 to 3,000 troops", 1),
        ),
        entities=(),
        names=(),
        name_keys=frozenset(),
    )
    with rt.store.topic_lock(TOPIC):
        events = pipeline.apply_signals(rt, rt.config.topics[TOPIC], signals, ref, emit=True)
    assert changes(events) == [(2000, 2500, 1)] and events[0].current.value_max == 3000
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    shown = CliRunner().invoke(cli, ["figures", "--config", str(tmp_path / "config")]).output
    assert "North Korean troops in Russia: about 2,500–3,000 (confirmed by 1 source(s): c;" in shown
    assert "unconfirmed: 9,000 (1 source(s): b; published 2026-11-03T00:00:00+00:00;" in shown
    assert "2026-11-02T00:00:00+00:00  2,000  a" in shown

"""A figure's history read back as stored, however often it is read and rewritten."""

from __future__ import annotations

import redis

from worker.signals.changes import DocumentRef, FigureReading, FigureStep
from worker.store import Store


def step(value: float, day: int, sources: tuple[str, ...] = ("a",)) -> FigureStep:
    document = DocumentRef(id=f"d{day}", published=f"2026-11-{day:02d}T00:00:00+00:00")
    reading = FigureReading(value=value, document=document, sources=sources)
    return FigureStep(reading=reading, previous=None)


def test_each_read_gives_the_history_as_stored_now(redis_url: str) -> None:
    writer = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    reader = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    history = [step(1000, 1), step(2000, 2)]
    writer.save_figure_history("t", "troops", history)
    assert reader.figure_history("t", "troops") == history
    # A step gains a source, another is added before it, the last is gone: each read
    # after a rewrite (by this process or another) is what was written.
    history = [step(500, 1), step(1000, 2, ("a", "b"))]
    writer.save_figure_history("t", "troops", history)
    assert reader.figure_history("t", "troops") == history
    assert writer.figure_history("t", "troops") == history
    writer.save_figure_history("t", "troops", [])
    assert reader.figure_history("t", "troops") == []


def test_changes_in_place_and_by_others_are_all_read(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    one, other = Store(client), Store(redis.Redis.from_url(redis_url, decode_responses=True))
    history = [step(1000, 1)]
    one.save_figure_history("t", "troops", history)
    for day in range(2, 6):  # steps added at the end, each read by the other process
        history = [*one.figure_history("t", "troops"), step(1000 * day, day)]
        one.save_figure_history("t", "troops", history)
        assert other.figure_history("t", "troops") == history
    # The other process adds a source to a step, then this one adds a step after it.
    changed = [*history[:2], step(2000, 2, ("a", "b")), *history[3:]]
    other.save_figure_history("t", "troops", changed)
    assert one.figure_history("t", "troops") == changed
    history = [*changed, step(9000, 9)]
    one.save_figure_history("t", "troops", history)
    assert other.figure_history("t", "troops") == history
    # Written behind this process's back (a reindex drops the indexes): read afresh.
    one.flush_indexes()
    assert one.figure_history("t", "troops") == []
    other.save_figure_history("t", "troops", history[:1])
    assert one.figure_history("t", "troops") == history[:1]
    stored = [
        FigureStep.model_validate_json(v) for v in client.lrange("nw:history:t:troops", 0, -1)
    ]
    assert stored == history[:1]

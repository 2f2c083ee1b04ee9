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

"""Change detection per figure (SPEC §3): when does an observation move the story?

A figure's value is the largest observation so far on `increase`, the smallest on
`decrease`, the latest on `change`; the same value from another outlet adds a source.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from worker.config import FigureSettings
from worker.signals.figures import FigureObservation


@dataclass(frozen=True)
class FigureValue:
    """A figure's current value, with where it was read and who reported it."""

    value: float
    upper: float | None
    qualifier: str
    quote: str
    document: dict[str, Any]
    observed_at: str
    sources: tuple[str, ...] = field(default_factory=tuple)

    def comparable(self, direction: str) -> float:
        return self.upper if direction == "increase" and self.upper is not None else self.value


Verdict = Literal["changed", "first", "same", "ignored", "behind"]


def judge(
    current: FigureValue | None,
    observation: FigureObservation,
    settings: FigureSettings,
    document: dict[str, Any],
    source: str,
    observed_at: str,
) -> tuple[Verdict, FigureValue | None]:
    """What `observation` does to the figure, and the figure's value afterwards."""
    if observation.qualifier in settings.ignore:
        return "ignored", current
    if settings.max_value is not None and observation.high > settings.max_value:
        return "ignored", current
    candidate = FigureValue(
        observation.value,
        observation.upper,
        observation.qualifier,
        observation.quote,
        document,
        observed_at,
        (source,),
    )
    if current is None:
        return "first", candidate
    new = candidate.comparable(settings.alert)
    old = current.comparable(settings.alert)
    margin = abs(old) * settings.tolerance
    moved = {
        "increase": new > old + margin,
        "decrease": new < old - margin,
        "change": abs(new - old) > margin,
    }[settings.alert]
    if moved:
        return "changed", candidate
    if abs(new - old) <= margin:
        if source in current.sources:
            return "same", current
        return "same", replace(current, sources=(*current.sources, source))
    return "behind", current

"""Change detection per figure (SPEC §3): when does an observation move the story?

A figure has a confirmed value: the largest confirmed reading on `increase`, the smallest
on `decrease`, the latest by publication time on `change`. A reading that jumps more than
`JUMP_RATIO` times past it (above double, or below half, of the confirmed value) from one
document is held as unconfirmed until another document (another outlet, or a later
article) reports a consistent value; a copy of the same article does not confirm it.
`planned` readings (projections, plans) never move a figure. When the confirmed value
rests on one document and two others agree on a value far behind it, that one document
was the outlier: the figure is corrected, without an alert, and the outlier held. A
reading published before the confirmed one arrives late: it never moves a `change` figure
backwards.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from worker.config import FigureSettings

# More than double (or less than half) of the confirmed value from a single document is
# held: a projection misread as a count, or a typo, is usually an order of magnitude off,
# while real updates of a running count rarely double between two reports.
JUMP_RATIO = 2.0
# Two readings confirm each other when within 10 % (or the figure's tolerance if larger):
# "about 10,000" and "10,500" are the same report in different words.
CONSISTENT_WITHIN = 0.10
# At most this many unconfirmed candidates are kept per figure (the latest).
MAX_CANDIDATES = 5

DateSource = Literal["feed", "page", "fetched", "unknown"]
Verdict = Literal[
    "first", "changed", "confirmed", "corrected", "same", "held", "behind", "late", "ignored"
]


class Record(BaseModel):
    """A frozen record that is stored as JSON and read back with its types."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class DocumentRef(Record):
    """A document as a reading or an alert cites it; `published` with where it came from."""

    id: str
    file: str | None = None
    url: str = ""
    title: str = ""
    source: str = ""
    published: str | None = None
    date_source: DateSource = "unknown"
    language: str | None = None

    def dated(self) -> str:
        """The publication time as shown to a user, marked when it is only the fetch time."""
        if not self.published:
            return "undated"
        return self.published + (
            " (fetched; no date given)" if self.date_source == "fetched" else ""
        )


def shown_value(value: float, upper: float | None, qualifier: str) -> str:
    """`about 11,000–12,000`: the qualifier and both ends of a range."""

    def number(n: float) -> str:
        return f"{int(n):,}" if float(n).is_integer() else f"{n:,}"

    text = number(value) + (f"–{number(upper)}" if upper is not None else "")
    return text if qualifier == "exact" else f"{qualifier} {text}"


class FigureReading(Record):
    """One reading of a figure: the value a document states, and who reported it."""

    value: float
    upper: float | None = None
    qualifier: str = "exact"
    quote: str = ""
    document: DocumentRef
    sources: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # originals (a copy counts as its original)

    @property
    def published(self) -> str:
        """Sortable publication time; an undated reading (a seed) sorts first."""
        return self.document.published or ""

    def comparable(self, direction: str) -> float:
        return self.upper if direction == "increase" and self.upper is not None else self.value

    def shown(self) -> str:
        return shown_value(self.value, self.upper, self.qualifier)

    def joined(self, other: FigureReading) -> FigureReading:
        """This reading with `other`'s sources and documents added."""
        return self.model_copy(
            update={
                "sources": tuple(dict.fromkeys((*self.sources, *other.sources))),
                "documents": tuple(dict.fromkeys((*self.documents, *other.documents))),
            }
        )


class FigureState(Record):
    """A figure's confirmed value and the readings held until someone confirms them."""

    confirmed: FigureReading | None = None
    unconfirmed: tuple[FigureReading, ...] = ()


class FigureStep(Record):
    """One step of a figure's history: the confirmed value it moved to, and from what."""

    reading: FigureReading
    previous: float | None = None


def _moved(new: float, old: float, settings: FigureSettings) -> bool:
    margin = abs(old) * settings.tolerance
    return {
        "increase": new > old + margin,
        "decrease": new < old - margin,
        "change": abs(new - old) > margin,
    }[settings.alert]


def _far(new: float, old: float, direction: str) -> bool:
    if old <= 0:
        return False
    up, down = new > old * JUMP_RATIO, new < old / JUMP_RATIO
    return {"increase": up, "decrease": down, "change": up or down}[direction]


def _far_behind(new: float, old: float, direction: str) -> bool:
    """Less than half (more than double, on `decrease`) of the confirmed value."""
    if old <= 0:
        return False
    return {"increase": new < old / JUMP_RATIO, "decrease": new > old * JUMP_RATIO}.get(
        direction, False
    )


def _consistent(a: float, b: float, settings: FigureSettings) -> bool:
    return abs(a - b) <= abs(b) * max(settings.tolerance, CONSISTENT_WITHIN)


def _still_past(
    candidate: FigureReading, confirmed: FigureReading, settings: FigureSettings
) -> bool:
    direction = settings.alert
    return _far(candidate.comparable(direction), confirmed.comparable(direction), direction)


def judge(
    state: FigureState, reading: FigureReading, settings: FigureSettings
) -> tuple[Verdict, FigureState]:
    """What `reading` does to the figure, and the figure's state afterwards.

    `first`, `changed` and `confirmed` move the confirmed value (an alert); the others
    do not: `same` may add a source, `held` keeps an unconfirmed candidate, `late` is a
    reading published before the confirmed one.
    """
    if reading.qualifier == "planned" or reading.qualifier in settings.ignore:
        return "ignored", state
    if (
        settings.max_value is not None
        and max(reading.value, reading.upper or 0) > settings.max_value
    ):
        return "ignored", state
    current = state.confirmed
    if current is None:
        return "first", FigureState(confirmed=reading)
    direction = settings.alert
    new, old = reading.comparable(direction), current.comparable(direction)
    late = bool(reading.published) and reading.published < current.published
    for index, candidate in enumerate(state.unconfirmed):
        if not _consistent(new, candidate.comparable(direction), settings):
            continue
        joined = candidate.joined(reading)
        if set(reading.documents) <= set(candidate.documents):
            # The same article again (a copy in another outlet): a source, not a confirmation.
            held = (*state.unconfirmed[:index], joined, *state.unconfirmed[index + 1 :])
            return "held", state.model_copy(update={"unconfirmed": held})
        if direction == "change" and late:
            break
        # Confirmed by another document: the newer of the two readings is the value.
        newer = reading if reading.published >= candidate.published else candidate
        confirmed = newer.model_copy(
            update={"sources": joined.sources, "documents": joined.documents}
        )
        rest = tuple(
            c
            for i, c in enumerate(state.unconfirmed)
            if i != index and _still_past(c, confirmed, settings)
        )
        if _moved(candidate.comparable(direction), old, settings):
            return "confirmed", FigureState(confirmed=confirmed, unconfirmed=rest)
        # Two documents agree far below a value only one document gave: that one was the
        # outlier (the figure's first reading, say). Corrected without an alert; the
        # outlier is held, and alerts if a second source ever confirms it.
        held = (*rest, current)[-MAX_CANDIDATES:]
        return "corrected", FigureState(confirmed=confirmed, unconfirmed=held)
    if not _moved(new, old, settings):
        if abs(new - old) <= abs(old) * settings.tolerance:
            if set(reading.sources) <= set(current.sources):
                return "same", state
            return "same", state.model_copy(update={"confirmed": current.joined(reading)})
        if _far_behind(new, old, direction) and len(current.documents) <= 1:
            # Far below a value one document gave: held, in case that one is the outlier.
            held = (*state.unconfirmed, reading)[-MAX_CANDIDATES:]
            return "held", state.model_copy(update={"unconfirmed": held})
        return "behind", state
    if late and direction == "change":
        return "late", state
    if _far(new, old, direction):
        held = (*state.unconfirmed, reading)[-MAX_CANDIDATES:]
        return "held", state.model_copy(update={"unconfirmed": held})
    # On `increase` and `decrease` the largest (smallest) value is news whenever it comes;
    # only `change`, which follows the latest reading, has a "backwards".
    rest = tuple(c for c in state.unconfirmed if _still_past(c, reading, settings))
    return "changed", FigureState(confirmed=reading, unconfirmed=rest)


def record_step(
    history: list[FigureStep],
    verdict: Verdict,
    before: FigureState,
    after: FigureState,
    reading: FigureReading,
    settings: FigureSettings,
) -> list[FigureStep] | None:
    """The history after a verdict, in publication order; None when it did not change.

    A move of the confirmed value adds a step; a reading that repeats a step's value
    (in order, or arriving late) adds its source to that step.
    """
    if verdict in ("first", "changed", "confirmed", "corrected"):
        assert after.confirmed is not None
        previous = before.confirmed.value if before.confirmed else None
        steps = [*history, FigureStep(reading=after.confirmed, previous=previous)]
        return sorted(steps, key=lambda s: s.reading.published)
    if verdict not in ("same", "late", "behind"):
        return None
    if verdict == "same":
        # The source was added to the confirmed value: to its step.
        assert after.confirmed is not None
        current = after.confirmed.document.id
        at = [i for i, s in enumerate(history) if s.reading.document.id == current]
    else:
        # A late or lower reading: the step in effect when it was published.
        at = [i for i, s in enumerate(history) if s.reading.published <= reading.published]
    if not at:
        return None
    index = at[-1]
    step = history[index]
    direction = settings.alert
    new, old = reading.comparable(direction), step.reading.comparable(direction)
    if abs(new - old) > abs(old) * settings.tolerance:
        return None
    if set(reading.sources) <= set(step.reading.sources):
        return None
    updated = step.model_copy(update={"reading": step.reading.joined(reading)})
    return [*history[:index], updated, *history[index + 1 :]]

"""Figure observations (SPEC §3): a quantity with the figure's unit, about its entity.

The number is about the entity named with its unit ("10,000 North Korean troops",
"600.000 tentara Rusia"), failing that the subject of its clause, failing that the
nearest named entity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.config import FigureSettings, TopicSettings
from worker.signals.numbers import Quantity, read_quantities
from worker.text import Sentence, fold, name_pattern, sentences

UNIT_WINDOW_WORDS = 4
_CLAUSE_MARKS = ',;:“”"()'


@dataclass(frozen=True)
class FigureObservation:
    figure: str
    value: float
    upper: float | None
    qualifier: str
    quote: str
    line: int

    @property
    def high(self) -> float:
        return self.upper if self.upper is not None else self.value


@dataclass(frozen=True)
class _Mention:
    entity: str
    start: int
    end: int


def _entity_mentions(folded: str, topic: TopicSettings) -> list[_Mention]:
    found = []
    for entity, names in topic.entities.items():
        for match in name_pattern(tuple(names)).finditer(folded):
            found.append(_Mention(entity, match.start(), match.end()))
    return sorted(found, key=lambda m: m.start)


def _unit_span(folded: str, quantity: Quantity, units: tuple[str, ...]) -> tuple[int, int] | None:
    """Where a unit word stands next to the number: within a few words after it, or
    before it when the clause gives the unit's value ("jumlah tentara mencapai 1.644")."""
    pattern = name_pattern(units)
    after = folded[quantity.end :]
    stop = re.search(r"[,;:.!?()“”\"]|\d", after)
    window_after = after[: stop.start() if stop else len(after)]
    words = list(re.finditer(r"\S+", window_after))[:UNIT_WINDOW_WORDS]
    if words:
        limit = words[-1].end()
        if match := pattern.search(window_after[:limit]):
            return quantity.end + match.start(), quantity.end + match.end()
    if not words or not words[0].group().isalpha():
        before = folded[: quantity.start]
        cut = max(before.rfind(mark) for mark in _CLAUSE_MARKS)
        clause = before[cut + 1 :]
        matches = list(pattern.finditer(clause))
        if matches:
            match = matches[-1]
            return cut + 1 + match.start(), cut + 1 + match.end()
    return None


def _subject(
    folded: str, quantity: Quantity, unit: tuple[int, int], mentions: list[_Mention]
) -> str | None:
    if not mentions:
        return None
    # Named with its unit: between the number and the unit, or right after the unit.
    low, high = min(quantity.end, unit[0]), max(quantity.start, unit[1])
    for mention in mentions:
        if low <= mention.start and mention.end <= high:
            return mention.entity
        if mention.start >= unit[1] and not folded[unit[1] : mention.start].strip():
            return mention.entity
    # The subject of the clause: its first entity before the number.
    cut = max(folded.rfind(mark, 0, quantity.start) for mark in _CLAUSE_MARKS)
    for mention in mentions:
        if cut < mention.start < quantity.start:
            return mention.entity
    nearest = min(
        mentions, key=lambda m: min(abs(m.start - quantity.start), abs(m.end - quantity.end))
    )
    return nearest.entity


def _observe_sentence(
    sentence: Sentence, language: str | None, topic: TopicSettings
) -> list[FigureObservation]:
    folded = fold(sentence.text)
    # Positions are shared between the text and its folded form; where folding changed
    # the length (rare ligatures), the folded text is read instead.
    text = sentence.text if len(folded) == len(sentence.text) else folded
    quantities = read_quantities(text, language)
    if not quantities:
        return []
    mentions = _entity_mentions(folded, topic)
    observations = []
    for figure_id, figure in topic.figures.items():
        if not _sentence_qualifies(folded, figure, topic):
            continue
        for quantity in quantities:
            unit = _unit_span(folded, quantity, tuple(figure.units))
            if unit is None:
                continue
            if _subject(folded, quantity, unit, mentions) != figure.about:
                continue
            observations.append(
                FigureObservation(
                    figure_id,
                    quantity.value,
                    quantity.upper,
                    quantity.qualifier,
                    sentence.text,
                    sentence.line,
                )
            )
    return observations


def _sentence_qualifies(folded: str, figure: FigureSettings, topic: TopicSettings) -> bool:
    if not name_pattern(tuple(topic.entities[figure.about])).search(folded):
        return False
    if figure.context and not name_pattern(tuple(figure.context)).search(folded):
        return False
    return not (figure.exclude and name_pattern(tuple(figure.exclude)).search(folded))


def observe_figures(
    text: str, language: str | None, topic: TopicSettings
) -> list[FigureObservation]:
    """Every observation of the topic's figures in a document's text."""
    if not topic.figures:
        return []
    found: list[FigureObservation] = []
    for sentence in sentences(text):
        found.extend(_observe_sentence(sentence, language, topic))
    return found

"""Why a document is or is not on topic, and what each of its numbers was read as.

The face of `newswatch explain`: users write topic files with it, and the development
set's benchmark scores the same readings.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from worker.config import TopicSettings
from worker.signals.figures import NumberReading, read_figures
from worker.text import normalise
from worker.words import word_matcher


@dataclass(frozen=True)
class Explanation:
    relevant: bool
    language: str | None
    groups: tuple[tuple[str, str | None], ...]  # each relevance group, and the name found
    numbers: tuple[NumberReading, ...]
    capped: bool


def explain(text: str, language: str | None, topic: TopicSettings, title: str = "") -> Explanation:
    """The relevance verdict and every number's reading for one document."""
    source = f"{title}\n{text}"
    folded = normalise(source)
    groups = []
    for group in topic.relevance.all:
        found = word_matcher(tuple(group.any), language).search(folded, source=source)
        groups.append(
            (", ".join(group.any[:4]), source[found.start : found.end] if found else None)
        )
    reading = read_figures(text, language, topic, title)
    return Explanation(
        relevant=all(name is not None for _, name in groups),
        language=language,
        groups=tuple(groups),
        numbers=tuple(reading.numbers),
        capped=reading.capped,
    )


def _clean(text: str) -> str:
    """Article text for a terminal: control characters shown as escapes, never run."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def as_text(explanation: Explanation) -> Iterator[str]:
    verdict = "on topic" if explanation.relevant else "off topic"
    yield f"{verdict} (language: {explanation.language or 'unknown'})"
    for names, found in explanation.groups:
        yield f"  group [{names}…]: " + (f"found '{_clean(found)}'" if found else "none named")
    sentence = None
    for number in explanation.numbers:
        if number.sentence != sentence:
            sentence = number.sentence
            yield f"line {number.line}: {_clean(sentence[:200])}"
        value = f"{number.value:g}" + (f"–{number.upper:g}" if number.upper is not None else "")
        what = f"→ {number.figure} = {value} ({number.qualifier})" if number.figure else "→ none"
        yield f"  {_clean(number.number)} {what}: {number.reason}"
    if explanation.capped:
        yield "(the document is longer than the reader reads; the rest was skipped)"


def as_json_lines(explanation: Explanation) -> Iterator[str]:
    yield json.dumps(
        {"relevant": explanation.relevant, "language": explanation.language}, ensure_ascii=False
    )
    for number in explanation.numbers:
        yield json.dumps(
            {
                "figure": number.figure,
                "value": number.value,
                "upper": number.upper,
                "qualifier": number.qualifier,
                "sentence": number.sentence,
                "reason": number.reason,
            },
            ensure_ascii=False,
        )

"""Sentences of a document: each line is a paragraph, split at sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? … (and a closing quote) followed by space and a capital or an
# opening quote; "10.000" or "Jr. Smith" lowercase continuations do not split.
_BOUNDARY = re.compile(r"(?<=[.!?…])(?P<close>[”\"’»)]?)\s+(?=[“\"‘«(]?[^\W\d_a-z])")


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int  # 1-based line of the document


def sentences(text: str) -> list[Sentence]:
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        start = 0
        for match in _BOUNDARY.finditer(line):
            piece = line[start : match.start() + len(match.group("close"))].strip()
            if piece:
                found.append(Sentence(piece, number))
            start = match.end()
        if line[start:].strip():
            found.append(Sentence(line[start:].strip(), number))
    return found

"""Text primitives every stage shares: folding, name patterns and sentences.

Folding makes matching case- and diacritic-insensitive in any script; sentences are
split per paragraph (one line of a document is one paragraph).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


def fold(text: str) -> str:
    """Casefolded text without diacritics: `Zelenskyy` ≡ `ZELENSKYY`, `Moskóv` ≡ `moskov`.

    Only combining marks are removed, so the result keeps one character per base
    character and the positions of words stay comparable between scripts.
    """
    if text.isascii():
        return text.lower()  # nothing to strip; ASCII casefold is lower()
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped).casefold()


@lru_cache(maxsize=1024)
def name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of `names` on word boundaries in folded text."""
    alternatives = sorted(
        {re.escape(fold(n).strip()) for n in names if n.strip()}, key=len, reverse=True
    )
    body = "|".join(a.replace(r"\ ", r"[\s\u00a0-]+") for a in alternatives) or r"(?!x)x"
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def mentions(folded_text: str, names: Iterable[str]) -> bool:
    return name_pattern(tuple(names)).search(folded_text) is not None


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

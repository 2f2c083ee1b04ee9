"""Topic relevance and name matching, case- and diacritic-insensitive, in any language."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from worker.config import TopicSettings


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


def is_relevant(text: str, topic: TopicSettings, title: str = "") -> bool:
    """On topic when every `all` group has at least one name in the title or text."""
    folded = fold(f"{title}\n{text}")
    return all(mentions(folded, group.any) for group in topic.relevance.all)

"""Text primitives every stage shares: folding, name patterns and sentences.

Folding makes matching case- and diacritic-insensitive in any script; sentences are
split per paragraph (one line of a document is one paragraph).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache


def fold(text: str) -> str:
    """Casefolded text without diacritics: `Zelenskyy` ≡ `ZELENSKYY`, `Moskóv` ≡ `moskov`.

    Only combining marks are removed, so the result keeps one character per base
    character and the positions of words stay comparable between scripts.
    """
    if text.isascii():
        return text.lower()  # nothing to strip; ASCII casefold is lower()
    if len(text) >= _WHOLE_TEXT:
        return _fold_whole(text)
    return _fold(text)


# A document's title and text are folded whole by the relevance test and again by the
# entity reader (0.2 ms of CPU for a 4,000-character text): the last few are kept.
_WHOLE_TEXT = 1024


@lru_cache(maxsize=4)
def _fold_whole(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = _combining_marks().sub("", decomposed)
    if max(stripped, default="\0") > "\uffff":
        stripped = _ASTRAL.sub(_astral_mark, stripped)
    return unicodedata.normalize("NFC", stripped).casefold()


# Characters above the Basic Multilingual Plane (emoji, historic scripts) are rare: each is
# tested on its own, where a class of every combining mark up there took half a second of
# CPU to build in each process, on the first such text.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _astral_mark(match: re.Match[str]) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def fold_each(words: Iterable[str]) -> list[str]:
    """`[fold(w) for w in words]` in one pass over their text: folding maps a newline to
    itself and never composes across it, so the pieces of the folded whole are the folded
    pieces (a word that holds a newline is folded on its own)."""
    listed = list(words)
    if any("\n" in word for word in listed):
        return [fold(word) for word in listed]
    folded = fold("\n".join(listed)).split("\n") if listed else []
    return folded if len(folded) == len(listed) else [fold(word) for word in listed]


@lru_cache(maxsize=1)
def _combining_marks() -> re.Pattern[str]:
    """Every combining mark (canonical combining class > 0) of the Basic Multilingual Plane
    as one character class: one regex pass is far faster than testing each character, and
    a class of BMP characters alone is compiled to a bitmap."""
    codes = range(0x10000)
    marks = "".join(re.escape(chr(c)) for c in codes if unicodedata.combining(chr(c)))
    return re.compile(f"[{marks}]")


# Arabic-Indic and Extended Arabic-Indic digits and Arabic separators, one char for one.
_DIGIT_MAP = str.maketrans(
    {
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
        "\u066a": "%",  # Arabic percent sign
    }
)


# Whether a text holds any of them: `translate` looks every character up in a dict, a
# search runs in C, and most texts hold none.
_MAPPED_DIGITS = re.compile("[" + "".join(chr(c) for c in _DIGIT_MAP) + "]")


def normalise(text: str) -> str:
    """Folded text with ASCII digits (٣٥٠٠ → 3500, １２ → 12), one character for one where
    folding allows, so positions in it are positions in the text."""
    if not text.isascii() and _MAPPED_DIGITS.search(text):
        text = text.translate(_DIGIT_MAP)
    return fold(text)


@lru_cache(maxsize=1024)
def name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One regex matching any of `names` on word boundaries in folded text.

    Each branch starts with its name's first character and tests the word boundary
    only once that character matched, so that a search skips to the next such
    character in C instead of looking behind at every character of the text."""
    folded = {fold(n).strip() for n in names if n.strip()}
    # Longest first (by their escaped forms).
    alternatives = sorted(folded, key=lambda n: len(re.escape(n)), reverse=True)
    body = "|".join(_bounded(n) for n in alternatives) or r"(?!x)x"
    return re.compile(rf"(?:{body})(?!\w)")


def _bounded(name: str) -> str:
    """`name` (folded) as a pattern that starts with its first character, with no word
    character before it; a space matches any run of spaces and hyphens."""
    if not name:
        return r"(?<!\w)"
    first = re.escape(name[0])
    rest = re.escape(name[1:]).replace(r"\ ", r"[\s\u00a0-]+")
    return rf"{first}(?<!\w{first}){rest}"


def mentions(folded_text: str, names: Iterable[str]) -> bool:
    return name_pattern(tuple(names)).search(folded_text) is not None


# A sentence ends at . ! ? … (and a closing quote) followed by space, or at a CJK full
# stop. Whether it really ends is judged on the next character and the word before.
_END = re.compile(r"(?:(?<=[.!?…؟])(?P<close>[”\"’»)]?)\s+)|(?:(?<=[。！？])(?P<cjk>[」』”]?)\s*)")
_LAST_WORD = re.compile(r"(\S+?)[.!?…]*[”\"’»)]?$")
# Both branches of `_END` look behind for one of these: it can only match right after
# one, so it is tried there alone instead of at every character of a line.
_END_MARK = re.compile(r"[.!?…؟。！？]")


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int  # 1-based line of the document


def _starts_sentence(char: str) -> bool:
    """A capital, a digit, an opening quote, or a letter of a script without case."""
    if char.isdigit() or char in '“"‘«(「『—–-':
        return True
    return char.isalpha() and not char.islower()


def _ends_sentence(line: str, match: re.Match[str], abbreviations: frozenset[str]) -> bool:
    if match.group("cjk") is not None:
        return True
    following = line[match.end() : match.end() + 1]
    if not following or not _starts_sentence(following):
        return False  # "3,8 тис. північнокорейців": lower case goes on
    before = line[max(0, match.start() - 40) : match.start()]
    if not before.endswith("."):
        return True
    # The last word is the last run without spaces: matched from its start, not searched
    # for from every position of `before`.
    word = _LAST_WORD.match(before.rsplit(None, 1)[-1])
    last = word.group(1).rstrip(".") if word else ""
    if len(last) == 1 and last.isalpha():
        return False  # an initial: "J. Smith"
    if last.isdigit() and len(last) <= 2 and not following.isdigit():
        return False  # an ordinal date: "am 28. März"
    return fold(last) not in abbreviations


def _ends(line: str) -> Iterator[re.Match[str]]:
    """What `_END.finditer(line)` finds: each match after an end mark, none overlapping."""
    reached = 0
    for mark in _END_MARK.finditer(line):
        if mark.end() < reached:
            continue
        match = _END.match(line, mark.end())
        if match:
            yield match
            reached = match.end()


def sentences(text: str, abbreviations: frozenset[str] = frozenset()) -> list[Sentence]:
    """The sentences of each line; `abbreviations` (folded, no dot) never end one."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        start = 0
        for match in _ends(line):
            if not _ends_sentence(line, match, abbreviations):
                continue
            close = match.group("close") or match.group("cjk") or ""
            piece = line[start : match.start() + len(close)].strip()
            if piece:
                found.append(Sentence(piece, number))
            start = match.end()
        if line[start:].strip():
            found.append(Sentence(line[start:].strip(), number))
    return found

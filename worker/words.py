"""Names and words matched in their inflected forms from the base forms a topic lists.

`Россия` finds России and Россию, `kill` finds killed and killing, `북한` finds 북한이 and
북한군, `Todesopfer` finds Todesopfern. A candidate is a word that starts with the base
form's stem (Snowball) and ends within a few letters of it; it counts when its stem or its
lemma (simplemma) is the base form's, or, in a language neither tool covers, by the stem
alone. Hangul words take their attached particles; Chinese and Japanese match anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import simplemma
import snowballstemmer
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

from worker.language import LanguageData, language_data
from worker.text import fold

# Below this many letters a stem says too little ("us", "ko"): the word must be whole.
_MIN_STEM = 4
_SIMPLEMMA = SUPPORTED_LANGUAGES


@dataclass(frozen=True)
class WordMatch:
    start: int
    end: int
    name: str  # the base form that matched


@lru_cache(maxsize=32)
def _stemmer(algorithm: str) -> Any:
    return snowballstemmer.stemmer(algorithm)


@lru_cache(maxsize=65536)
def stem(word: str, language: str) -> str:
    data = language_data(language)
    return str(_stemmer(data.stemmer).stemWord(word)) if data.stemmer else word


@lru_cache(maxsize=65536)
def lemma(word: str, language: str) -> str:
    if language not in _SIMPLEMMA:
        return word
    return fold(simplemma.lemmatize(word, lang=language))


def _can_judge(data: LanguageData) -> bool:
    return data.stemmer is not None or data.code in _SIMPLEMMA


def same_word(word: str, base: str, language: str) -> bool:
    """Whether `word` (folded) is an inflected form of `base` (folded) in `language`."""
    if word == base:
        return True
    data = language_data(language)
    if not _can_judge(data):
        return True
    if data.stemmer and stem(word, data.code) == stem(base, data.code):
        return True
    return data.code in _SIMPLEMMA and lemma(word, data.code) in (base, lemma(base, data.code))


def _word_pattern(word: str, data: LanguageData) -> str:
    escaped = re.escape(word)
    if data.script == "cjk" or not word[-1].isalnum():
        return escaped
    if data.script == "hangul":
        if len(word) == 1:  # a counter such as 명: only its particles may follow
            particles = "|".join(re.escape(p) for p in data.particles)
            return rf"{escaped}(?:{particles})?(?![가-힣])"
        return rf"{escaped}[가-힣]{{0,3}}"
    root = stem(word, data.code) if data.stemmer else word
    common = 0
    while common < min(len(root), len(word)) and root[common] == word[common]:
        common += 1
    if common < _MIN_STEM or len(word) <= 3:
        return rf"{escaped}(?:'s|’s)?(?!\w)" if data.code == "en" else rf"{escaped}(?!\w)"
    suffix = len(word) - common + data.max_suffix
    return rf"{re.escape(word[:common])}\w{{0,{suffix}}}(?!\w)"


@dataclass(frozen=True, eq=False)
class WordMatcher:
    """Finds any of a list of base forms, inflected, in folded text of one language."""

    pattern: re.Pattern[str]
    names: tuple[tuple[str, tuple[str, ...]], ...]  # (base form, its folded words)
    language: str

    def finditer(self, folded: str, start: int = 0, end: int | None = None) -> Iterator[WordMatch]:
        stop = len(folded) if end is None else end
        for match in self.pattern.finditer(folded, start, stop):
            group = match.lastgroup
            if group is None:
                continue
            name, words = self.names[int(group[1:])]
            if self._confirmed(match.group(group), words):
                yield WordMatch(match.start(), match.end(), name)

    def search(self, folded: str, start: int = 0, end: int | None = None) -> WordMatch | None:
        return next(self.finditer(folded, start, end), None)

    def _confirmed(self, found: str, words: tuple[str, ...]) -> bool:
        data = language_data(self.language)
        if data.script != "spaced" or len(words) == 0:
            return True
        pieces = re.split(r"[\s\u00a0-]+", found)
        if len(pieces) != len(words):
            return True
        return all(
            same_word(p.rstrip("'’s") if p.endswith(("'s", "’s")) else p, w, data.code)
            for p, w in zip(pieces, words, strict=True)
        )


@lru_cache(maxsize=4096)
def word_matcher(names: tuple[str, ...], language: str | None) -> WordMatcher:
    """A matcher of `names` (base forms, any case) in folded text of `language`."""
    data = language_data(language)
    entries: list[tuple[str, tuple[str, ...]]] = []
    alternatives: list[tuple[int, str]] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        words = tuple(fold(name).split())
        body = r"[\s\u00a0-]+".join(_word_pattern(w, data) for w in words)
        if data.script == "spaced" or data.script == "hangul":
            left = r"(?<!\w)" if data.script == "spaced" else r"(?<![가-힣a-z])"
        elif data.script == "arabic":
            prefixes = "|".join(re.escape(p) for p in data.prefixes)
            left = rf"(?<!\w)(?:{prefixes})?" if prefixes else r"(?<!\w)"
        else:
            left = ""
        index = len(entries)
        entries.append((name, words))
        alternatives.append((len(fold(name)), f"(?P<n{index}>{left}{body})"))
    ordered = [a for _, a in sorted(alternatives, key=lambda a: -a[0])]
    pattern = re.compile("|".join(ordered) or r"(?!x)x")
    return WordMatcher(pattern, tuple(entries), data.code)


def mentions_any(folded: str, names: tuple[str, ...], language: str | None) -> bool:
    return word_matcher(names, language).search(folded) is not None

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

from worker.language import LanguageData, language_data
from worker.text import fold

# Below this many letters a stem says too little ("us", "ko"): the word must be whole.
_MIN_STEM = 4
# The code read for text whose language is not known: English words, no stemmer or
# lemmatiser, so inflected names are found by their root alone.
UNKNOWN_LANGUAGE = "und"


@dataclass(frozen=True)
class WordMatch:
    start: int
    end: int
    name: str  # the base form that matched


# simplemma and Snowball are imported on first use: a process that only polls and
# delivers imports the pipeline, and this module with it, but never reads a word.


@lru_cache(maxsize=1)
def dictionary_languages() -> frozenset[str]:
    """The languages simplemma has a dictionary (lemmas, known words) for."""
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    return frozenset(SUPPORTED_LANGUAGES)


# Words each worker process keeps the answers for, per cache: a news language's running
# vocabulary fits. Full at 65,536 entries, the four word caches held ~52 MB in each prefork
# child (stem 10, lemma 22.5, is_known 9.5, same_word 10 MB, measured), a quarter of that now.
WORD_CACHE = 16384


@lru_cache(maxsize=32)
def _stemmer(algorithm: str) -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer(algorithm)


# Snowball's C build (PyStemmer) stems in a few microseconds: a smaller cache does.
@lru_cache(maxsize=WORD_CACHE // 4)
def stem(word: str, language: str) -> str:
    data = language_data(language)
    return str(_stemmer(data.stemmer).stemWord(word)) if data.stemmer else word


# simplemma's low-memory dictionaries: the same word lists, read from their compressed
# stream on demand instead of decoded into a dict per language in every worker process
# (de 110 → 15 MB, ru 123 → 20 MB, es 117 → 11 MB); a look-up costs a few microseconds
# more, and `lemma` caches them.
LOW_MEMORY = True


@lru_cache(maxsize=WORD_CACHE)
def lemma(word: str, language: str) -> str:
    if language not in dictionary_languages():
        return word
    import simplemma

    return str(simplemma.lemmatize(word, lang=language, low_memory=LOW_MEMORY)).lower()


# Cached as `lemma` is: the low-memory dictionaries are searched on every look-up.
@lru_cache(maxsize=WORD_CACHE)
def is_known(word: str, language: str) -> bool:
    """The language's dictionary (simplemma) knows `word`."""
    import simplemma

    return bool(simplemma.is_known(word, lang=language, low_memory=LOW_MEMORY))


def _can_judge(data: LanguageData) -> bool:
    return data.stemmer is not None or data.code in dictionary_languages()


@lru_cache(maxsize=WORD_CACHE)
def same_word(word: str, base: str, language: str) -> bool:
    """Whether `word` is an inflected form of `base` in `language` (both lower case, with
    their diacritics where the text has them: the stemmers and lemmatiser need them)."""
    if fold(word) == fold(base):
        return True
    data = language_data(language)
    if not _can_judge(data):
        return True
    if data.stemmer and fold(stem(word, data.code)) == fold(stem(base, data.code)):
        return True
    for prefix in data.participle_prefixes:
        # A participle of the base verb: gefallen (fallen), gekommen (kommen).
        if (
            word.startswith(prefix)
            and not base.startswith(prefix)
            and same_word(word[len(prefix) :], base, language)
        ):
            return True
    if data.code not in dictionary_languages():
        return False
    found = lemma(word, data.code)
    if fold(found) in (fold(base), fold(lemma(base, data.code))):
        return True
    # A form the lemmatiser does not know is judged by its stem alone, when there is none
    # ("раніше" is a word of its own, not a form of "ранений").
    return found == word and data.stemmer is None and not is_known(word, data.code)


# Korean vowels (jamo indices) that contract with the past/connective 어/아: 지 → 져, 졌.
_CONTRACTED = {20: 6, 18: 4, 8: 9, 13: 14, 0: 0, 4: 4}
_HA, _HAE = "하", "해"


def _hangul_stems(verb: str) -> list[str]:
    """The written stems of a Korean verb in dictionary form: 숨지다 → 숨지, 숨져, 숨졌."""
    stem = verb[:-1]
    forms = [stem]
    last = ord(stem[-1]) - 0xAC00
    if 0 <= last < 11172 and last % 28 == 0:  # an open syllable can contract
        initial, vowel = divmod(last // 28, 21)
        if stem[-1] == _HA:
            forms += [stem[:-1] + _HAE, stem[:-1] + chr(ord(_HAE) + 20)]
        elif vowel in _CONTRACTED:
            base = 0xAC00 + (initial * 21 + _CONTRACTED[vowel]) * 28
            forms += [stem[:-1] + chr(base), stem[:-1] + chr(base + 20)]  # 져, 졌 (final ㅆ)
    return list(dict.fromkeys(forms))


def _word_pattern(lower: str, data: LanguageData) -> str:
    word = fold(lower)
    escaped = re.escape(word)
    if data.script == "cjk":
        # A Japanese verb or adjective in dictionary form ends in kana that inflect:
        # 亡くなる → 亡くな(った), 捕らえる → 捕らえ(た).
        if len(word) > 1 and "\u3041" <= word[-1] <= "\u3096" and not _all_kana(word):
            return re.escape(word[:-1])
        return escaped
    if not word[-1].isalnum():
        return escaped
    if data.script == "arabic":
        # Endings (ا، ة، ين، ون، ات) on short roots: "شخصا" for شخص. A final ة, ى or ي
        # gives way to them (إصابة → إصابات, لقي → لقوا, توفي → توفوا).
        if len(word) >= 3 and word[-1] in "ةىي":
            return rf"{re.escape(word[:-1])}\w{{0,{data.max_suffix}}}(?!\w)"
        return rf"{escaped}\w{{0,{data.max_suffix}}}(?!\w)"
    if data.script == "hangul":
        if len(word) == 1:  # a counter such as 명: only its particles may follow
            particles = "|".join(re.escape(p) for p in data.particles)
            return rf"{escaped}(?:{particles}){{0,2}}(?![가-힣])"
        if word.endswith("다") and len(word) >= 2:  # a verb: 숨지다 → 숨지고, 숨졌다
            stems = "|".join(re.escape(s) for s in _hangul_stems(word))
            return rf"(?:{stems})[가-힣]{{0,4}}"
        return rf"{escaped}[가-힣]{{0,3}}"
    if data.stemmer:
        root = fold(stem(lower, data.code))
        # With a lemmatiser to confirm, a shorter stem is safe ("lid…" for lidé, lidí).
        shortest = 3 if data.code in dictionary_languages() else _MIN_STEM
    else:
        # Without a stemmer, the last letters of a word are taken as its ending; the
        # lemmatiser then judges the candidates ("люд…" finds людей, людини for людина).
        root, shortest = word[: max(3, len(word) - 3)], 3
    common = 0
    while common < min(len(root), len(word)) and root[common] == word[common]:
        common += 1
    if data.code in dictionary_languages():
        # The lemmatiser confirms each candidate, so the prefix may stop before the stem's
        # last letters, where verbs change (погибнуть: погибли, погибший).
        common = max(min(common, shortest), min(common, len(word) - 3))
    if common < shortest or len(word) <= 3:
        return rf"{escaped}(?:'s|’s)?(?!\w)" if data.code == "en" else rf"{escaped}(?!\w)"
    suffix = len(word) - common + data.max_suffix
    # German participles put ge- before the stem (getötet, gekommen).
    before = "|".join(re.escape(p) for p in data.participle_prefixes)
    prefix = f"(?:{before})?" if before else ""
    return rf"{prefix}{re.escape(word[:common])}\w{{0,{suffix}}}(?!\w)"


def _all_kana(word: str) -> bool:
    return all("\u3041" <= c <= "\u30ff" for c in word)


@dataclass(frozen=True, eq=False)
class WordMatcher:
    """Finds any of a list of base forms, inflected, in folded text of one language."""

    pattern: re.Pattern[str]
    names: tuple[tuple[str, tuple[str, ...]], ...]  # (base form, its lower-case words)
    alone: tuple[re.Pattern[str], ...]  # each name's own pattern, in the same order
    initials: tuple[str, ...]  # each name's first letter, or "" where a prefix may come first
    language: str

    def finditer(
        self, folded: str, start: int = 0, end: int | None = None, source: str | None = None
    ) -> Iterator[WordMatch]:
        """Matches in `folded`; `source`, the text it was folded from, lets the stemmer and
        lemmatiser see the diacritics when folding kept every position."""
        stop = len(folded) if end is None else end
        original = source.lower() if source is not None and len(source) == len(folded) else None
        function_words = language_data(self.language).function_words
        for match in self.pattern.finditer(folded, start, stop):
            group = match.lastgroup
            if group is None:
                continue
            if match.group(group) in function_words:
                continue  # "los" is not a form of "lose" in Spanish text
            index = int(group[1:])
            name, words = self.names[index]
            if self._confirmed(match.start(group), match.end(group), folded, original, words):
                yield WordMatch(match.start(), match.end(), name)
                continue
            # The longest candidate was another word ("втрати" is not "втратити"): try
            # the other names at the same place.
            first = folded[match.start() : match.start() + 1]
            for other, pattern in enumerate(self.alone):
                if self.initials[other] not in ("", first):
                    continue
                found = pattern.match(folded, match.start(), stop)
                if (
                    other != index
                    and found
                    and self._confirmed(
                        found.start(), found.end(), folded, original, self.names[other][1]
                    )
                ):
                    yield WordMatch(found.start(), found.end(), self.names[other][0])
                    break

    def search(
        self, folded: str, start: int = 0, end: int | None = None, source: str | None = None
    ) -> WordMatch | None:
        return next(self.finditer(folded, start, end, source), None)

    def _confirmed(
        self, start: int, end: int, folded: str, original: str | None, words: tuple[str, ...]
    ) -> bool:
        data = language_data(self.language)
        if data.script != "spaced" or len(words) == 0:
            return True
        found = (original if original is not None else folded)[start:end]
        pieces = re.split(r"[\s\u00a0-]+", found)
        if len(pieces) != len(words):
            return True
        return all(
            same_word(p.rstrip("'’s") if p.endswith(("'s", "’s")) else p, w, data.code)
            for p, w in zip(pieces, words, strict=True)
        )


@lru_cache(maxsize=4096)
def word_matcher(names: tuple[str, ...], language: str | None) -> WordMatcher:
    """A matcher of `names` (base forms, any case) in folded text of `language`.

    Text of no known language is matched by a plain root and a few letters after it."""
    data = language_data(language or UNKNOWN_LANGUAGE)
    entries: list[tuple[str, tuple[str, ...]]] = []
    alone: list[re.Pattern[str]] = []
    alternatives: list[tuple[int, bool, str]] = []
    if data.script == "spaced" or data.script == "hangul":
        left = r"(?<!\w)" if data.script == "spaced" else r"(?<![가-힣a-z])"
    elif data.script == "arabic":
        prefixes = "|".join(re.escape(p) for p in data.prefixes)
        left = rf"(?<!\w)(?:{prefixes})?" if prefixes else r"(?<!\w)"
    else:
        left = ""
    usable = (n.strip() for n in names if n.strip() and fold(n.strip()) not in data.function_words)
    for name in dict.fromkeys(usable):
        words = tuple(name.lower().split())
        # Arabic adjectives take the article too ("الكوريين الشماليين" for كوري شمالي).
        joiner = r"[\s\u00a0-]+" + ("(?:ال)?" if data.script == "arabic" else "")
        body = joiner.join(_word_pattern(w, data) for w in words)
        # A Hangul counter (명) may stand against the digits or syllables before it.
        own_left = "" if data.script == "hangul" and len(name) == 1 else left
        index = len(entries)
        entries.append((name, words))
        alone.append(re.compile(f"{own_left}{body}"))
        alternatives.append((len(fold(name)), own_left == left, f"(?P<n{index}>{body})"))
    ordered = sorted(alternatives, key=lambda a: -a[0])
    # The word-start test once, before the alternatives: most positions fail it at once.
    bounded = "|".join(a for _, shared, a in ordered if shared)
    free = "|".join(a for _, shared, a in ordered if not shared)
    parts = ([f"{left}(?:{bounded})"] if bounded else []) + ([free] if free else [])
    pattern = re.compile("|".join(parts) or r"(?!x)x")
    anywhere = data.script == "arabic" or bool(data.participle_prefixes)
    initials = tuple("" if anywhere else fold(name)[:1] for name, _ in entries)
    return WordMatcher(pattern, tuple(entries), tuple(alone), initials, data.code)


@lru_cache(maxsize=4096)
def _lemmas(names: tuple[str, ...], language: str) -> frozenset[str]:
    """The folded lemmas of the one-word names."""
    single = [n.strip().lower() for n in names if n.strip() and " " not in n.strip()]
    return frozenset({fold(lemma(n, language)) for n in single} | {fold(n) for n in single})


_TOKEN = re.compile(r"[^\W\d_]+")


def lemma_search(
    source: str, start: int, end: int, names: tuple[str, ...], language: str | None
) -> WordMatch | None:
    """The first word of `source[start:end]` whose lemma is one of `names`' lemmas: for the
    forms no prefix finds (gestorben for sterben, lives for life, бойцов for боец)."""
    data = language_data(language)
    if data.code not in dictionary_languages() or data.script != "spaced":
        return None
    wanted = _lemmas(names, data.code) - data.function_words
    for token in _TOKEN.finditer(source, start, end):
        word = token.group().lower()
        if fold(word) not in data.function_words and fold(lemma(word, data.code)) in wanted:
            return WordMatch(token.start(), token.end(), token.group())
    return None


def scattered_search(
    source: str, start: int, end: int, names: tuple[str, ...], language: str | None
) -> WordMatch | None:
    """A phrase of several words whose words all stand, in any order, in
    `source[start:end]` ("kamen … ums Leben" for ums Leben kommen, "přišlo … o život")."""
    data = language_data(language)
    phrases = [[fold(w) for w in n.split()] for n in names if len(n.split()) > 1]
    if data.script != "spaced" or not phrases:
        return None
    tokens = list(_TOKEN.finditer(source, start, end))
    seen = {fold(t.group()) for t in tokens}
    seen |= {fold(lemma(t.group().lower(), data.code)) for t in tokens}
    for words in phrases:
        if all(w in seen or fold(lemma(w, data.code)) in seen for w in words):
            first = next(t for t in tokens if fold(t.group()) in words or t is tokens[-1])
            return WordMatch(first.start(), first.end(), " ".join(words))
    return None


def mentions_any(
    folded: str, names: tuple[str, ...], language: str | None, source: str | None = None
) -> bool:
    return word_matcher(names, language).search(folded, source=source) is not None

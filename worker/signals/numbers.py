"""Quantities read in the document's language: `10.000 tentara`, `2,6 juta`, `1만 2천`, `3,8 тис.`.

Separators come from CLDR through Babel: `10.000` is ten thousand in Indonesian or German
and ten in English. The words around a number (scales, counters, qualifiers, projections,
time and date words) are per-language data (`lang/<code>.yaml`, see `language.py`).
Ages, dates, years, times, ordinals, percentages, money, phone numbers and names such as
"Perang Dunia II" are not quantities.

Every look around a number is a bounded window, so reading is linear in the text.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from worker.language import LanguageData, language_data
from worker.text import normalise

log = logging.getLogger(__name__)
# Nothing newswatch counts (people, weapons, money) reaches a quadrillion: larger values
# are typos, hoaxes or hostile input, and are not quantities.
MAX_QUANTITY = 1e15
# Characters looked at on each side of a number for its qualifier, scale and traps.
WINDOW = 60
# A sentence with more numbers than this is a table or hostile input: the rest is skipped.
MAX_NUMBERS_PER_SENTENCE = 64

_SPACES = "\u00a0\u202f\u2009 "
_CLAUSE_MARKS = ',;:()“”"，、；：（）،؛'
_TIME_ZONES = ("wib", "wita", "wit", "gmt", "utc", "am", "pm", "a.m", "p.m", "uhr", "h", "kst")
_PHONE_WORDS = ("tel", "tel.", "telp", "phone", "hotline", "call", "hp", "fax", "whatsapp")


@dataclass(frozen=True)
class Quantity:
    """A number stated in a sentence, with what the sentence says around it."""

    value: float
    upper: float | None
    qualifier: str
    start: int
    end: int
    text: str
    unit: str | None
    year_like: bool = False  # a bare 1800–2100: a year unless its phrase counts something
    word: bool = False  # a number word alone ("nine were killed")

    @property
    def high(self) -> float:
        return self.upper if self.upper is not None else self.value


def separators(language: str | None) -> tuple[str, frozenset[str]]:
    """(decimal mark, group marks) of a language, from CLDR via Babel."""
    data = language_data(language)
    return data.decimal, data.groups


def parse_number(digits: str, language: str | None) -> float | None:
    """A numeral in `language`'s notation, or None when it is not a well-formed number."""
    decimal, groups = separators(language)
    text = normalise(digits.strip())
    integer, fraction = text, ""
    if decimal in text:
        integer, _, fraction = text.rpartition(decimal)
        if not fraction.isdigit():
            return None
    parts = _group_marks(groups).split(integer) if groups else [integer]
    well_grouped = (
        parts[0].isdigit()
        and len(parts[0]) <= 3
        and all(p.isdigit() and len(p) == 3 for p in parts[1:])
    )
    if len(parts) > 1 and not well_grouped:
        # A group mark not followed by three digits is a decimal mark written the other
        # convention's way (`2.6 juta` in Indonesian): read it as one.
        if len(parts) == 2 and not fraction and all(p.isdigit() for p in parts):
            return float(f"{parts[0]}.{parts[1]}")
        return None
    whole = "".join(parts)
    if not whole.isdigit():
        return None
    return float(f"{whole}.{fraction}" if fraction else whole)


@lru_cache(maxsize=64)
def _group_marks(groups: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + re.escape("".join(sorted(groups))) + "]")


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in ordered) or r"(?!x)x"


@dataclass(frozen=True)
class _Patterns:
    number: re.Pattern[str]
    words: re.Pattern[str]
    scale: re.Pattern[str]
    myriad: re.Pattern[str]
    digits_after_myriad: re.Pattern[str]
    range: re.Pattern[str]
    paired_range: re.Pattern[str]
    word: re.Pattern[str]
    upper: re.Pattern[str]


@lru_cache(maxsize=64)
def _patterns(data: LanguageData) -> _Patterns:
    spaced = data.script in ("spaced", "arabic")
    marks = {".", ",", data.decimal, *data.groups}
    separators_class = "[" + re.escape("".join(sorted(marks))) + "]"
    run = rf"\d(?:\d|{separators_class}(?=\d))*"
    suffixes = _alternation(list(data.suffix_scale))
    if spaced:
        before, after = r"(?<![\w\-./,:])", r"(?![\w.,]\d)"
        if data.script == "arabic":
            # "و2376", "ب600": and, with, to are written on the number they lead.
            clitics = "".join(p for p in data.prefixes if len(p) == 1)
            before = rf"(?:{before}|(?<=(?<!\w)[{clitics}]))"
        suffix = rf"(?P<suffix>(?:{suffixes})(?!\w))?" if data.suffix_scale else ""
    else:
        before, after = r"(?<![0-9a-z\-./,:])", r"(?![.,]\d)"
        suffix = ""
    number = re.compile(rf"{before}(?P<digits>{run}){suffix}{after}")
    word_list = [*data.number_words, *data.self_scaled, *data.approximate]
    attached = _alternation(list(data.prefixes)) if data.prefixes else ""
    prefix = rf"(?:{attached})?" if attached else ""
    words = re.compile(rf"(?<!\w){prefix}(?P<word>{_alternation(word_list)})(?!\w)")
    scale = re.compile(rf"[\s\-]*(?P<scale>{_alternation(list(data.scale))})(?!\w)")
    myriad = re.compile(rf"\s?(?P<unit>{_alternation(list(data.myriads))})")
    digits_after_myriad = re.compile(rf"\s?(?P<digits>{run})")
    joiners = _alternation(list(data.range_joiners))
    paired = _alternation([*data.range_joiners, *data.paired_joiners])
    range_ = re.compile(rf"\s*(?:{joiners})\s*(?=[\d{''.join(_SPACES)}])\s*")
    paired_range = re.compile(rf"\s*(?:{paired})\s*(?=\d)")
    word = re.compile(r"[^\W_]+(?:[.'’\-][^\W_]+)*\.?|%|\$|€|£|\+")
    upper = re.compile(rf"(?P<digits>{run}){after}")
    return _Patterns(
        number, words, scale, myriad, digits_after_myriad, range_, paired_range, word, upper
    )


def _ends_with(text: str, phrases: tuple[str, ...], data: LanguageData) -> str | None:
    """The phrase `text` ends with (on a word boundary), longest first."""
    stripped = text.rstrip()
    if not stripped.endswith(phrases):
        return None  # one test in C for the usual case: none of them
    for phrase in phrases:
        if stripped.endswith(phrase):
            cut = len(stripped) - len(phrase)
            if (
                cut == 0
                or data.script in ("cjk", "hangul")
                or not stripped[cut - 1].isalnum()
                or not phrase[0].isalnum()
            ):
                return phrase
    return None


def _starts_with(text: str, phrases: tuple[str, ...], data: LanguageData | None) -> str | None:
    """The phrase `text` starts with (on a word boundary unless `data` is None), longest first.

    In Korean a word may carry a particle ("명이", "명을"); in Chinese and Japanese any
    character may follow.
    """
    stripped = text.lstrip()
    if not stripped.startswith(phrases):
        return None  # one test in C for the usual case: none of them
    for phrase in phrases:
        if stripped.startswith(phrase):
            rest = stripped[len(phrase) : len(phrase) + 1]
            if data is None or data.script == "cjk":
                return phrase
            if not rest or not rest.isalnum() or not phrase[-1].isalnum():
                return phrase
            if data.script == "hangul" and _starts_with(
                stripped[len(phrase) :], data.particles, None
            ):
                return phrase
    return None


@lru_cache(maxsize=256)
def any_of(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `phrases` anywhere (as plain substrings): one search in C says whether a
    phrase-by-phrase look is worth making, which it rarely is."""
    return re.compile("|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True)))


def _has_phrase(text: str, phrases: tuple[str, ...], data: LanguageData) -> str | None:
    """A phrase of `phrases` anywhere in `text` on word boundaries (CJK: anywhere)."""
    if not phrases or not any_of(phrases).search(text):
        return None
    for phrase in phrases:
        at = text.find(phrase)
        while at != -1:
            end = at + len(phrase)
            if data.script in ("cjk", "hangul") or (
                (at == 0 or not text[at - 1].isalnum() or not phrase[0].isalnum())
                and (end == len(text) or not text[end].isalnum() or not phrase[-1].isalnum())
            ):
                return phrase
            at = text.find(phrase, at + 1)
    return None


def _words(text: str, count: int, data: LanguageData) -> list[str]:
    return _patterns(data).word.findall(text)[:count]


def _last_words(text: str, count: int, data: LanguageData) -> list[str]:
    return _patterns(data).word.findall(text)[-count:] if count else []


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    value: float
    word: bool
    suffix_scale: float = 1.0
    whole: bool = False  # read in full already (a numeral in Chinese characters)


_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2, "兩": 2}
_KANJI_SMALL = {"十": 10, "百": 100, "千": 1000}
_KANJI_LARGE = {"万": 1e4, "萬": 1e4, "亿": 1e8, "億": 1e8}
# "数千人", "几万": vague, not a value.
_KANJI_NUMBER = re.compile(
    r"(?<![数數几幾上成])[〇零一二两兩三四五六七八九十百千万萬亿億]{2,}|(?<![数數几幾上成第])[十百千万萬](?=[余多名人])"
)


def kanji_value(text: str) -> float:
    """三千 → 3000, 一万二千 → 12000, 近万 → 10000 (a bare unit counts one)."""
    total, section, number = 0.0, 0.0, 0.0
    for char in text:
        if char in _KANJI_DIGITS:
            number = _KANJI_DIGITS[char]
        elif char in _KANJI_SMALL:
            section += (number or 1) * _KANJI_SMALL[char]
            number = 0
        else:
            total += (section + number or 1) * _KANJI_LARGE[char]
            section, number = 0, 0
    return total + section + number


def _myriads(folded: str, position: int, first: float, data: LanguageData) -> tuple[float, int]:
    """`1만 2천`, `1.2万`, `1万2000`: digit groups with CJK myriad units."""
    if not data.myriads:
        return first, position
    patterns = _patterns(data)
    total, small, current, end = 0.0, 0.0, first, position
    for _ in range(6):
        unit = patterns.myriad.match(folded, end, end + 3)
        if not unit:
            break
        multiplier = data.myriads[unit.group("unit")]
        if multiplier >= 1e4:
            total += (small + current) * multiplier
            small = 0.0
        else:
            small += current * multiplier
        current, end = 0.0, unit.end()
        digits = patterns.digits_after_myriad.match(folded, end, end + 24)
        if not digits:
            break
        value = parse_number(digits.group("digits"), data.code)
        if value is None:
            break
        current, end = value, digits.end()
    return total + small + current, end


def _scale_after(folded: str, position: int, data: LanguageData) -> tuple[float, int]:
    """A scale word right after `position` (`ribu`, `million`, `тис.`, `-tisíc`)."""
    match = _patterns(data).scale.match(folded, position, position + WINDOW)
    if match:
        return data.scale[match.group("scale")], match.end()
    return 1.0, position


_DIGIT = re.compile(r"\d")


def _candidates(folded: str, data: LanguageData, words: bool) -> list[_Candidate]:
    patterns = _patterns(data)
    found: list[_Candidate] = []
    # Most sentences hold no digit: one search in C says so, where the numeral pattern
    # (which starts by looking behind) is tried at every character.
    numerals = patterns.number.finditer(folded) if _DIGIT.search(folded) else ()
    for match in numerals:
        value = parse_number(match.group("digits"), data.code)
        if value is None:
            continue
        suffix = match.groupdict().get("suffix")
        scale = data.suffix_scale.get(suffix, 1.0) if suffix else 1.0
        found.append(_Candidate(match.start(), match.end(), value, False, scale))
        if len(found) > MAX_NUMBERS_PER_SENTENCE * 4:
            break
    if data.script == "cjk":
        for match in _KANJI_NUMBER.finditer(folded):
            text = match.group()
            if any(c in text for c in "十百千万萬亿億"):
                value = kanji_value(text)
                found.append(_Candidate(match.start(), match.end(), value, False, whole=True))
    if words and (data.number_words or data.self_scaled or data.approximate):
        for match in patterns.words.finditer(folded):
            text = match.group("word")
            value = (
                data.self_scaled.get(text)
                or data.approximate.get(text)
                or data.number_words.get(text, 0.0)
            )
            found.append(_Candidate(match.start("word"), match.end(), value, True))
            if len(found) > MAX_NUMBERS_PER_SENTENCE * 8:
                break
    return sorted(found, key=lambda c: c.start)


# What follows or makes up a number that is no count (see `_is_trap`).
_PERCENT = re.compile(r"\s*%")
_MINUTES = re.compile(r"[:.]\d{2}(?!\d)")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")
_SCORE = re.compile(r"(?::|\s*[比対대]\s*)\d")
_ORDINAL_DOT = re.compile(r"\.\s+[^\W\d_]")
_MODIFIER = re.compile(r"-[^\W\d_]")


def _is_trap(folded: str, candidate: _Candidate, digits: str, data: LanguageData) -> bool:
    """Percentages, ordinals, times, durations, ages, dates, money and phone numbers."""
    start, end = candidate.start, candidate.end
    before = folded[max(0, start - WINDOW) : start]
    after = folded[end : end + WINDOW]
    spaced = data.script in ("spaced", "arabic")
    if _PERCENT.match(after) or _starts_with(after, data.percent, data):
        return True
    if spaced and after[:1].isalpha() and _starts_with(after, data.ordinal_after, None):
        return True
    if _ends_with(before, data.ordinal_before, data) or before.endswith(("ke-", "#", "№")):
        return True
    if _MINUTES.match(after) or _CLOCK.fullmatch(digits):
        return True
    if _SCORE.match(after) or before.endswith(":"):
        return True  # a score: 3:1, 2比1, 2対1, 2대1
    if data.ordinal_dot and _ORDINAL_DOT.match(after) and len(digits) <= 3:
        month = _words(after[1:], 1, data)
        if not month or month[0] not in data.months:
            return True  # "das 11. Korps"
    if before.rstrip().endswith(("$", "€", "£", "¥", "₩")) or _ends_with(
        before, data.money_before, data
    ):
        return True
    next_words = _words(after, 2, data)
    previous = _last_words(before, 3, data)
    if spaced:
        approximate = any(
            after.startswith(s) and not after[len(s) : len(s) + 1].isalnum()
            for s in data.approximate_suffixes
        )
        if (
            _MODIFIER.match(after)
            and not approximate
            and not _scale_after(folded, end, data)[1] > end
        ):
            return True  # "a 30-storey tower", "a 120-day mission": a modifier, not a count
        if next_words and next_words[0].rstrip(".") in _TIME_ZONES and len(digits) <= 5:
            return True
        if _starts_with(after, data.time_units, data):
            return True
        if next_words and next_words[0].rstrip(".") in data.months and after[:1] != ",":
            return True
        if (
            len(next_words) == 2
            and next_words[0] in ("de", "of", "del")
            and next_words[1].rstrip(".") in data.months
        ):
            return True
        # A month before it makes a day (March 28) or a year (März 2025), nothing else:
        # "28 марта 144 человека" is a count after a date.
        day_or_year = candidate.value <= 31 or 1800 <= candidate.value <= 2100
        if (
            previous
            and not data.day_first
            and previous[-1].rstrip(".") in data.months
            and before.rstrip()[-1:] not in ",;"
            and day_or_year
        ):
            return True
    else:
        if _starts_with(after, data.time_units, data):
            return True
    return any(word in data.age_words for word in previous)


_PHONE_DIGITS = re.compile(r"[\d\s\-()]{0,24}")


def _phone_number(folded: str, candidate: _Candidate) -> int:
    """The end of a phone number starting at the candidate ("+62 21 555 1234"), or 0."""
    before = folded[max(0, candidate.start - 12) : candidate.start].rstrip()
    if not before.endswith("+") and not before.rstrip(":").endswith(_PHONE_WORDS):
        return 0
    run = _PHONE_DIGITS.match(folded[candidate.start : candidate.start + 24])
    return candidate.start + (run.end() if run else 0)


@lru_cache(maxsize=64)
def _qualifiers_before(data: LanguageData) -> tuple[str, ...]:
    """Every phrase before a number that `_qualifier` tests, its qualifiers' and `passing`."""
    return (*(p for phrases in data.qualifiers.values() for p in phrases), *data.passing)


def _qualifier(folded: str, start: int, end: int, data: LanguageData) -> str:
    before = folded[max(0, start - WINDOW) : start]
    texts = [before]
    # "superan las 3.000", "passed the 2,000": the article may stand between, and a day
    # before it ("superó el miércoles los 2.800").
    if article := _ends_with(before, data.articles, data):
        bare = before.rstrip()[: -len(article)]
        texts.append(bare)
        day = _ends_with(bare, data.days, data)
        if day and len(day) > 3:
            dayless = bare.rstrip()[: -len(day)]
            dated = _ends_with(dayless, data.articles, data)
            texts.append(dayless.rstrip()[: -len(dated)] if dated else dayless)
    before_phrases = _qualifiers_before(data)
    for text in texts:
        if not text.rstrip().endswith(before_phrases):
            continue  # one test in C for the usual case: none of them
        for qualifier, phrases in data.qualifiers.items():
            if _ends_with(text, phrases, data):
                return qualifier
        if _ends_with(text, data.passing, data):
            return "more than"
    after = folded[end : end + WINDOW].lstrip()
    counter = _starts_with(after, data.counters, data)
    first_word = _patterns(data).word.match(after)
    # After the number, its counter ("1만 명 이상") or its unit ("144 شخصا على الأقل").
    skipped = (
        after[len(counter) :] if counter else after[first_word.end() :] if first_word else None
    )
    for following in (after, skipped.lstrip() if skipped else None):
        if following is None:
            continue
        for qualifier, phrases in data.qualifiers_after.items():
            if phrases and _starts_with(following, phrases, None):
                return qualifier
    if data.qualifiers_last:
        # A verb closing the number's clause: "sollen 38.000 Tote … übersteigen".
        rest = _CLAUSE_REST.match(folded, end, end + 2 * WINDOW)
        for qualifier, phrases in data.qualifiers_last.items():
            if rest and _has_phrase(rest.group(), phrases, data):
                return qualifier
    return "exact"


# The rest of a clause after a number, up to a clause mark or the next number.
_CLAUSE_REST = re.compile(r"[^\d" + re.escape(_CLAUSE_MARKS) + r".!?]*")


def _range_end(
    folded: str, position: int, data: LanguageData, paired: bool
) -> tuple[float | None, float, int]:
    """The upper end of a range at `position` (`11.000-12.000`, `11 to 12 ribu`), its scale."""
    patterns = _patterns(data)
    joiner = (patterns.paired_range if paired else patterns.range).match(
        folded, position, position + 24
    )
    if not joiner:
        return None, 1.0, position
    number = patterns.upper.match(folded, joiner.end(), joiner.end() + WINDOW)
    if not number:
        return None, 1.0, position
    upper = parse_number(number.group("digits"), data.code)
    if upper is None:
        return None, 1.0, position
    upper, end = _myriads(folded, number.end(), upper, data)
    scale, end = _scale_after(folded, end, data)
    return upper, scale, end


# The hundreds after a written thousand ("3 mil 354", Latin American style).
_RESIDUE = re.compile(r"[ \u00a0](\d{1,3})(?![\d.,:]?\d)")


def _word_range_end(
    folded: str, position: int, data: LanguageData
) -> tuple[float | None, float, int]:
    """The scaled number word closing a range of words at `position`, its scale and end."""
    patterns = _patterns(data)
    at = (
        position
        + len(folded[position : position + 4])
        - len(folded[position : position + 4].lstrip())
    )
    word = patterns.words.match(folded, at, at + WINDOW)
    attached = word is not None and folded[at : word.start("word")] in data.paired_joiners
    if not attached:
        joiner = patterns.paired_range.pattern.replace(r"(?=\d)", "")
        gap = re.compile(joiner).match(folded, position, position + 24)
        word = patterns.words.match(folded, gap.end(), gap.end() + WINDOW) if gap else None
    if not word:
        return None, 1.0, position  # no joiner, neither apart nor written on the word
    text = word.group("word")
    upper = data.number_words.get(text) or data.self_scaled.get(text)
    if not upper:
        return None, 1.0, position
    scale, end = _scale_after(folded, word.end(), data)
    if scale == 1.0:
        return None, 1.0, position
    return upper, scale, end


_CLAUSE_MARK = re.compile("[" + re.escape(_CLAUSE_MARKS) + "]")


def clause_start(folded: str, position: int) -> int:
    """Where the clause holding `position` begins (after a comma, semicolon, colon…)."""
    low = max(0, position - 4 * WINDOW)
    marks = [m.start() for m in _CLAUSE_MARK.finditer(folded, low, position)]
    for at in reversed(marks):
        if not (
            folded[at] == ","
            and folded[at - 1 : at].isdigit()
            and folded[at + 1 : at + 2].isdigit()
        ):
            return at + 1
    return low


_DIGITS_AFTER = re.compile(r"\s*(de\s+)?\d")  # "mil 500"
_FOUR_DIGITS = re.compile(r"\d{4}")


def read_quantities(
    sentence: str, language: str | None, loose: bool = False, folded: str | None = None
) -> list[Quantity]:
    """Every quantity stated in one sentence, in order.

    `loose` also returns bare number words and year-like numbers, flagged, for a reader
    that can tell from the phrase whether they count something; `folded` is the sentence
    already normalised, when the caller has it.
    """
    data = language_data(language)
    if folded is None:
        folded = normalise(sentence)
    text = sentence if len(folded) == len(sentence) else folded
    found: list[Quantity] = []
    consumed = -1
    for candidate in _candidates(folded, data, words=True):
        if candidate.start < consumed:
            continue
        if len(found) >= MAX_NUMBERS_PER_SENTENCE:
            log.info("more than %d numbers in one sentence; the rest skipped", len(found))
            break
        digits = folded[candidate.start : candidate.end]
        start, end, value = candidate.start, candidate.end, candidate.value
        if not candidate.word:
            phone = _phone_number(folded, candidate)
            if phone:
                consumed = phone
                continue
            if candidate.suffix_scale == 1.0 and _is_trap(folded, candidate, digits, data):
                consumed = end
                continue
            if not candidate.whole:
                value, end = _myriads(folded, end, value, data)
        scale = candidate.suffix_scale
        if scale == 1.0:
            scale, end = _scale_after(folded, end, data)
        round_word = candidate.word and digits in data.approximate
        bare_word = (
            candidate.word and scale == 1.0 and digits not in data.self_scaled and not round_word
        )
        paired = _ends_with(folded[max(0, start - 16) : start], data.range_openers, data)
        # "between three and four thousand", "ما بين ثلاثة وأربعة آلاف"
        word_range = _word_range_end(folded, end, data) if bare_word and paired else None
        if word_range and word_range[0] is not None:
            bare_word = False
        if bare_word and not loose:
            continue
        if candidate.word and scale == 1.0 and _DIGITS_AFTER.match(folded[end : end + 8]):
            continue  # "mil 500": the digits are the number
        upper, upper_scale, range_end = (None, 1.0, end)
        if not candidate.word:
            # "pasó de 1.002 a 1.644": from one count to the next, two readings, not a range.
            change = _ends_with(folded[max(0, start - 24) : start], data.change_openers, data)
            if not change:
                upper, upper_scale, range_end = _range_end(folded, end, data, paired is not None)
        elif word_range:
            upper, upper_scale, range_end = word_range
        if upper is not None:
            end = range_end
            if scale == 1.0:
                scale = upper_scale  # "11 to 12 thousand": the scale is written once, at the end
        value *= scale
        rest = _RESIDUE.match(folded, end) if scale == 1e3 and upper is None else None
        if rest and value.is_integer():
            value, end = value + int(rest.group(1)), rest.end()  # "3 mil 354": 3,354
        year_like = (
            not candidate.word
            and scale == 1.0
            and upper is None
            and _FOUR_DIGITS.fullmatch(digits) is not None
            and 1800 <= value <= 2100
        )
        if year_like and not loose:
            consumed = end
            continue
        if not math.isfinite(value) or value > MAX_QUANTITY:
            log.info("ignored an absurd quantity %r", folded[start:end][:40])
            consumed = end
            continue
        if upper is not None:
            upper *= upper_scale if upper_scale != 1.0 else scale
        qualifier = _qualifier(folded, start, end, data)
        if _ends_with(folded[max(0, start - 16) : start], data.range_openers, data):
            qualifier = _qualifier(folded, start - len(paired or ""), end, data)
        suffix = next((s for s in data.approximate_suffixes if folded.startswith(s, end)), None)
        if (round_word or suffix) and qualifier == "exact":
            qualifier = "about"
        if is_planned(folded, start, end, data):
            qualifier = "planned"
        elif qualifier == "exact" and _has_phrase(
            folded[clause_start(folded, start) : start], data.estimating, data
        ):
            qualifier = "about"
        next_word = _words(folded[end : end + WINDOW], 1, data)
        unit = next_word[0].strip(".,") if next_word else None
        consumed = end
        found.append(
            Quantity(
                value,
                upper,
                qualifier,
                start,
                end,
                text[start:end],
                unit,
                year_like=year_like,
                word=bare_word,
            )
        )
    return found


def is_planned(folded: str, start: int, end: int, data: LanguageData) -> bool:
    """A projection or plan in the number's clause: before it, or after it in SOV languages."""
    if _has_phrase(folded[clause_start(folded, start) : start], data.planned, data):
        return True
    if not data.planned_after:
        return False
    stop = min(
        (i for i in (folded.find(m, end, end + 2 * WINDOW) for m in ",;。，、") if i != -1),
        default=end + 2 * WINDOW,
    )
    return _has_phrase(folded[end:stop], data.planned_after, data) is not None

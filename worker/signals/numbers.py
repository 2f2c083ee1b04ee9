"""Quantities read in the document's language: `10.000 tentara`, `2,6 juta`, `12k`, `ten thousand`.

Separators come from the locale (Babel's CLDR data): `10.000` is ten thousand in
Indonesian or German and ten in English. Scale words, abbreviations, small number words,
ranges and qualifiers are read; ages, dates, years, times, ordinals, percentages, phone
numbers and names such as "Perang Dunia II" are not quantities.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol

from worker.text import fold

log = logging.getLogger(__name__)
# Nothing newswatch counts (people, weapons, money) reaches a quadrillion: larger values
# are typos, hoaxes or hostile input, and are not quantities.
MAX_QUANTITY = 1e15
_SPACES = "\u00a0\u202f\u2009 "

SCALE_WORDS: dict[str, float] = {
    **dict.fromkeys(
        [
            "ribu",
            "rb",
            "thousand",
            "thousands of",
            "tausend",
            "mille",
            "mil",
            "тысяч",
            "тысячи",
            "тысяча",
            "тыс",
            "mila",
            "duizend",
        ],
        1e3,
    ),
    **dict.fromkeys(
        [
            "juta",
            "jt",
            "million",
            "millions",
            "mn",
            "millionen",
            "million",
            "mio",
            "millón",
            "millones",
            "milhão",
            "milhões",
            "миллион",
            "миллиона",
            "миллионов",
            "млн",
            "milioni",
            "milione",
            "miljoen",
        ],
        1e6,
    ),
    **dict.fromkeys(
        [
            "miliar",
            "milyar",
            "billion",
            "billions",
            "bn",
            "milliarde",
            "milliarden",
            "mrd",
            "milliard",
            "milliards",
            "mil millones",
            "bilhão",
            "bilhões",
            "миллиард",
            "миллиарда",
            "миллиардов",
            "млрд",
            "miliardi",
            "miljard",
        ],
        1e9,
    ),
}
# Attached abbreviations only (`12k`, `1.5m`, `$2bn`): detached, `m` is metres.
SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "rb": 1e3, "jt": 1e6}

NUMBER_WORDS: dict[str, float] = {
    # en
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "a hundred": 100,
    "hundred": 100,
    "a few hundred": 0,
    # id
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "sebelas": 11,
    "dua belas": 12,
    "lima belas": 15,
    "dua puluh": 20,
    "tiga puluh": 30,
    "lima puluh": 50,
    "seratus": 100,
    # de
    "eins": 1,
    "ein": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "zwölf": 12,
    "zwanzig": 20,
    "fünfzig": 50,
    "hundert": 100,
    # fr
    "un": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "douze": 12,
    "vingt": 20,
    "cinquante": 50,
    "cent": 100,
    # es / pt
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "doce": 12,
    "veinte": 20,
    "cincuenta": 50,
    "cien": 100,
    "dez": 10,
    "vinte": 20,
    # ru
    "один": 1,
    "два": 2,
    "две": 2,
    "три": 3,
    "четыре": 4,
    "пять": 5,
    "шесть": 6,
    "семь": 7,
    "восемь": 8,
    "девять": 9,
    "десять": 10,
    "двенадцать": 12,
    "двадцать": 20,
    "пятьдесят": 50,
    "сто": 100,
}
# Words that are a value on their own: "seribu tentara", "a thousand troops".
SELF_SCALED = {
    "seribu": 1e3,
    "sejuta": 1e6,
    "a thousand": 1e3,
    "a million": 1e6,
    "tausend": 1e3,
    "mille": 1e3,
    "mil": 1e3,
}

QUALIFIERS: dict[str, tuple[str, ...]] = {
    "about": (
        "sekitar",
        "kira-kira",
        "kurang lebih",
        "sekira",
        "about",
        "around",
        "approximately",
        "roughly",
        "some",
        "an estimated",
        "estimated",
        "etwa",
        "rund",
        "ungefähr",
        "circa",
        "ca.",
        "environ",
        "quelque",
        "quelques",
        "alrededor de",
        "unos",
        "unas",
        "aproximadamente",
        "cerca de",
        "около",
        "примерно",
        "порядка",
    ),
    "nearly": (
        "hampir",
        "nyaris",
        "nearly",
        "almost",
        "close to",
        "fast",
        "beinahe",
        "presque",
        "près de",
        "casi",
        "quase",
        "почти",
        "quasi",
    ),
    "more than": (
        "lebih dari",
        "di atas",
        "more than",
        "over",
        "upwards of",
        "in excess of",
        "mehr als",
        "über",
        "plus de",
        "más de",
        "mais de",
        "более",
        "больше",
        "свыше",
        "oltre",
        "più di",
    ),
    "at least": (
        "setidaknya",
        "sedikitnya",
        "paling sedikit",
        "minimal",
        "at least",
        "no fewer than",
        "no less than",
        "mindestens",
        "wenigstens",
        "au moins",
        "al menos",
        "por lo menos",
        "pelo menos",
        "по меньшей мере",
        "не менее",
        "как минимум",
        "almeno",
    ),
    "up to": (
        "hingga",
        "sampai",
        "up to",
        "as many as",
        "bis zu",
        "jusqu'à",
        "jusqu’à",
        "hasta",
        "até",
        "до",
        "fino a",
    ),
    "less than": (
        "kurang dari",
        "less than",
        "fewer than",
        "under",
        "weniger als",
        "unter",
        "moins de",
        "menos de",
        "менее",
        "меньше",
        "meno di",
    ),
}
PLAN_WORDS = (
    "berencana",
    "merencanakan",
    "rencana",
    "akan mengirim",
    "akan mengirimkan",
    "akan mengerahkan",
    "akan dikirim",
    "akan dikerahkan",
    "plans to",
    "planning to",
    "planned",
    "plan to",
    "intends to",
    "will send",
    "will deploy",
    "is set to send",
    "expected to send",
    "to be sent",
    "to be deployed",
    "plant",
    "planen",
    "geplant",
    "prévoit",
    "prévu",
    "envisage",
    "va envoyer",
    "planea",
    "planean",
    "prevé",
    "enviará",
    "planeja",
    "планирует",
    "планируется",
    "намерена",
    "собирается",
)
MONTHS = (
    "januari februari maret april mei juni juli agustus september oktober november desember "
    "january february march may june july august october december jan feb mar apr jun jul "
    "aug sep sept oct nov dec agu okt des januar februar märz juni juli oktober dezember "
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre "
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre "
    "janeiro fevereiro março maio junho julho setembro outubro dezembro "
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
).split()
TIME_UNITS = (
    "tahun bulan minggu pekan hari jam menit detik year years yr yrs month months week "
    "weeks day days hour hours minute minutes second seconds jahr jahre jahren monat monate "
    "woche wochen tag tage tagen stunde stunden minuten an ans année années mois semaine "
    "semaines jour jours heure heures año años mes meses semana semanas día días hora horas "
    "anos ano dias год года лет месяц месяца месяцев неделя недели дней день часов часа "
    "anni anno mesi giorni ore year-old years-old -year-old tahunan"
).split()
AGE_WORDS = (
    "berusia",
    "berumur",
    "usia",
    "umur",
    "aged",
    "age",
    "alter",
    "âgé",
    "âgée",
    "edad",
    "возрасте",
    "età",
)
PERCENT_WORDS = (
    "%",
    "persen",
    "percent",
    "per cent",
    "prozent",
    "pour cent",
    "por ciento",
    "por cento",
    "процент",
    "процента",
    "процентов",
    "per cento",
    "pct",
)
TIME_ZONES = ("wib", "wita", "wit", "gmt", "utc", "am", "pm", "a.m.", "p.m.", "uhr", "h")
ORDINAL_SUFFIX = re.compile(r"^(st|nd|rd|th|e|er|re|ème|eme|º|ª|°|-й|-я|-е|-го)\b", re.I)
RANGE_JOINERS = ("-", "–", "—", "to", "hingga", "sampai", "s/d", "s.d.", "bis", "à", "до")
# "and"-like joiners make a range only after an opener: "between 11,000 and 12,000".
PAIRED_JOINERS = ("and", "dan", "und", "et", "y", "e", "и", "a")
RANGE_OPENERS = ("antara", "between", "zwischen", "entre", "между", "tra", "fra")

_DIGITS = r"\d[\d.,\u00a0\u202f\u2009 ]*\d|\d"
_NUMBER = re.compile(
    rf"(?<![\w\-./,+:])(?P<digits>{_DIGITS})(?P<suffix>(?:k|m|mn|bn|b|rb|jt)\b)?(?![\w.,]\d)",
    re.IGNORECASE,
)


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

    @property
    def high(self) -> float:
        return self.upper if self.upper is not None else self.value


@lru_cache(maxsize=64)
def separators(language: str | None) -> tuple[str, frozenset[str]]:
    """(decimal mark, group marks) of a language, from CLDR via Babel."""
    try:
        locale = Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    decimal = get_decimal_symbol(locale)
    group = get_group_symbol(locale)
    groups = frozenset(_SPACES) if group in _SPACES else frozenset({group})
    return decimal, groups


def parse_number(digits: str, language: str | None) -> float | None:
    """A numeral in `language`'s notation, or None when it is not a well-formed number."""
    decimal, groups = separators(language)
    text = digits.strip()
    integer, fraction = text, ""
    if decimal in text:
        integer, _, fraction = text.rpartition(decimal)
        if not fraction.isdigit():
            return None
    parts = re.split("[" + re.escape("".join(groups)) + "]", integer) if groups else [integer]
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


def _words_after(text: str, position: int, count: int) -> list[str]:
    return re.findall(r"[\w%'’.-]+|%", text[position : position + 80])[:count]


def _ends_with_phrase(before: str, phrases: tuple[str, ...]) -> str | None:
    folded = fold(before).rstrip()
    for phrase in sorted(phrases, key=len, reverse=True):
        if folded.endswith(fold(phrase)) and (
            len(folded) == len(fold(phrase)) or not folded[-len(fold(phrase)) - 1].isalnum()
        ):
            return phrase
    return None


def _scale_after(text: str, position: int) -> tuple[float, int]:
    """A scale word right after `position` (`ribu`, `million`, `mil millones`)."""
    match = _SCALE.match(fold(text[position : position + 40]))
    if match:
        return _FOLDED_SCALE[match.group(1)], position + match.end()
    return 1.0, position


def _is_excluded(sentence: str, start: int, end: int, digits: str, value: float) -> bool:
    before = fold(sentence[max(0, start - 30) : start])
    after = fold(sentence[end : end + 30])
    next_words = [w for w in _words_after(fold(sentence), end, 3) if w.strip(".")][:2]
    previous_words = re.findall(r"[\w-]+", before)[-2:]
    stripped = after.lstrip()
    if stripped.startswith(PERCENT_WORDS) or re.match(r"\s*%", after):
        return True
    if ORDINAL_SUFFIX.match(after) or before.endswith(("ke-", "ke ", "no.", "nr.", "#", "№")):
        return True
    if re.match(r"\s*[:.]\d{2}\b", after) or re.match(r"\d{1,2}[.:]\d{2}$", digits):
        return re.match(r"\d{1,2}[.:]\d{2}$", digits) is not None or ":" in after[:2]
    if (
        next_words
        and next_words[0].rstrip(".,") in TIME_ZONES
        and re.fullmatch(r"\d{1,2}([.:]\d{2})?", digits)
    ):
        return True
    if next_words and next_words[0].strip(".,") in TIME_UNITS:
        return True
    if any(w in AGE_WORDS for w in previous_words):
        return True
    if next_words and next_words[0].strip(".,") in MONTHS:
        return True
    if previous_words and previous_words[-1] in MONTHS:
        return True
    if re.fullmatch(r"\d{4}", digits) and 1800 <= value <= 2100:
        return True
    if before.rstrip().endswith(("+", "tel", "telp", "phone", "tel.", "hp")):
        return True
    return bool(re.search(r"\d[ -]\d{3,}[ -]\d", digits) and len(re.sub(r"\D", "", digits)) > 9)


def _qualifier(sentence: str, start: int) -> str:
    before = sentence[max(0, start - 40) : start]
    for qualifier, phrases in QUALIFIERS.items():
        if _ends_with_phrase(before, phrases):
            return qualifier
    return "exact"


def clause_around(sentence: str, start: int, end: int) -> str:
    """The clause holding `sentence[start:end]`, between commas, semicolons or colons."""
    left = max(sentence.rfind(mark, 0, start) for mark in ",;:")
    rights = [i for i in (sentence.find(mark, end) for mark in ",;:") if i != -1]
    return sentence[left + 1 : min(rights) if rights else len(sentence)]


def is_planned(clause: str) -> bool:
    folded = fold(clause)
    return _PLAN_WORDS.search(folded) is not None


def read_quantities(sentence: str, language: str | None) -> list[Quantity]:
    """Every quantity stated in one sentence, in order."""
    found: list[Quantity] = []
    consumed = -1
    candidates: list[tuple[int, int, str, str | None, float | None]] = [
        (m.start(), m.end(), m.group("digits"), m.group("suffix"), None)
        for m in _NUMBER.finditer(sentence)
    ]
    candidates += _word_numbers(sentence)
    candidates.sort(key=lambda c: (c[0], c[1]))
    for start, end, digits, suffix, word_value in candidates:
        if start < consumed:
            continue
        if word_value is None:
            value = parse_number(digits, language)
            if value is None:
                continue
            if _is_excluded(sentence, start, end, digits, value):
                continue
            scale = SUFFIX_SCALE[suffix.lower()] if suffix else 1.0
        else:
            value, scale = word_value, 1.0
        if scale == 1.0:
            scale, end = _scale_after(sentence, end)
        paired = _ends_with_phrase(sentence[max(0, start - 12) : start], RANGE_OPENERS)
        upper, upper_scale, end = _range_end(sentence, end, language, paired is not None)
        if upper is not None and scale == 1.0:
            scale = upper_scale  # "11 to 12 thousand": the scale is written once, at the end
        value *= scale
        if not math.isfinite(value) or value > MAX_QUANTITY:
            log.info("ignored an absurd quantity %r", sentence[start:end][:40])
            consumed = end
            continue
        if upper is not None:
            upper *= upper_scale if upper_scale != 1.0 else scale
        qualifier = _qualifier(sentence, start)
        if is_planned(clause_around(sentence, start, end)):
            qualifier = "planned"
        unit_words = _words_after(sentence, end, 1)
        unit = unit_words[0].strip(".,").lower() if unit_words else None
        consumed = end
        found.append(Quantity(value, upper, qualifier, start, end, sentence[start:end], unit))
    return found


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted({fold(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in ordered) + r")(?!\w)")


_FOLDED_SCALE = {fold(w): v for w, v in SCALE_WORDS.items()}
_FOLDED_SELF_SCALED = {fold(w): v for w, v in SELF_SCALED.items()}
_FOLDED_NUMBER_WORDS = {fold(w): v for w, v in NUMBER_WORDS.items()}
_SELF_SCALED = _alternation(SELF_SCALED)
_SCALE = re.compile(r"\s*" + _alternation(SCALE_WORDS).pattern)
_NUMBER_WORDS = _alternation(w for w, v in NUMBER_WORDS.items() if v)
_PLAN_WORDS = _alternation(PLAN_WORDS)


def _word_numbers(sentence: str) -> list[tuple[int, int, str, str | None, float | None]]:
    """Number words that carry a scale (`sepuluh ribu`, `ten thousand`) or are one (`seribu`)."""
    folded = fold(sentence)
    results: list[tuple[int, int, str, str | None, float | None]] = []
    for match in _SELF_SCALED.finditer(folded):
        scale, _ = _scale_after(folded, match.end())
        if scale == 1.0 and not re.match(r"\s*(de\s+)?\d", folded[match.end() :]):
            results.append(
                (
                    match.start(),
                    match.end(),
                    match.group(),
                    None,
                    _FOLDED_SELF_SCALED[match.group()],
                )
            )
    for match in _NUMBER_WORDS.finditer(folded):
        scale, _ = _scale_after(folded, match.end())
        if scale > 1.0:
            results.append(
                (
                    match.start(),
                    match.end(),
                    match.group(),
                    None,
                    _FOLDED_NUMBER_WORDS[match.group()],
                )
            )
    return results


def _range_end(
    sentence: str, position: int, language: str | None, paired: bool
) -> tuple[float | None, float, int]:
    """The upper end of a range at `position` (`11.000-12.000`, `11 to 12 ribu`), its scale."""
    words = RANGE_JOINERS + (PAIRED_JOINERS if paired else ())
    joiners = "|".join(re.escape(j) for j in sorted(words, key=len, reverse=True))
    match = re.match(
        rf"\s*(?:{joiners})\s*(?P<digits>{_DIGITS})(?![\w.,]\d)", sentence[position:], re.IGNORECASE
    )
    if not match:
        return None, 1.0, position
    upper = parse_number(match.group("digits"), language)
    if upper is None:
        return None, 1.0, position
    upper_scale, end = _scale_after(sentence, position + match.end())
    return upper, upper_scale, end

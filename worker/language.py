"""Per-language reading data: scale words, counters, qualifiers, time and date words.

The words live in `lang/<code>.yaml` beside this module, one file per language; month and
day names and number separators come from CLDR through Babel. A language without a file
is read with the English words and its own CLDR separators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import yaml

from worker.text import fold

if TYPE_CHECKING:
    from babel import Locale

Script = Literal["spaced", "hangul", "cjk", "arabic"]
QUALIFIER_NAMES = ("about", "nearly", "more than", "at least", "up to", "less than")
_SPACES = "\u00a0\u202f\u2009 "


def _words(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else []
    return tuple(sorted({fold(str(w)) for w in items if str(w).strip()}, key=len, reverse=True))


def _values(raw: object) -> dict[str, float]:
    items = raw if isinstance(raw, dict) else {}
    return {fold(str(k)): float(v) for k, v in items.items()}


def _qualifiers(raw: object) -> dict[str, tuple[str, ...]]:
    items = raw if isinstance(raw, dict) else {}
    unknown = set(items) - set(QUALIFIER_NAMES)
    if unknown:
        raise ValueError(f"unknown qualifiers {sorted(unknown)}")
    return {name: _words(items.get(name)) for name in QUALIFIER_NAMES}


# Compared by identity: one instance per language (cached), so it can key other caches.
@dataclass(frozen=True, eq=False)
class LanguageData:
    """What the number and figure readers need to know of one language (folded words)."""

    code: str
    script: Script
    decimal: str
    groups: frozenset[str]
    scale: dict[str, float]
    suffix_scale: dict[str, float]
    myriads: dict[str, float]
    number_words: dict[str, float]
    self_scaled: dict[str, float]
    approximate: dict[str, float]
    counters: tuple[str, ...]
    qualifiers: dict[str, tuple[str, ...]]
    qualifiers_after: dict[str, tuple[str, ...]]
    passing: tuple[str, ...]
    estimating: tuple[str, ...]
    planned: tuple[str, ...]
    planned_after: tuple[str, ...]
    reach: tuple[str, ...]
    time_units: tuple[str, ...]
    age_words: tuple[str, ...]
    date_words: tuple[str, ...]
    months: tuple[str, ...]
    days: tuple[str, ...]
    ordinal_before: tuple[str, ...]
    ordinal_after: tuple[str, ...]
    money_before: tuple[str, ...]
    percent: tuple[str, ...]
    range_joiners: tuple[str, ...]
    range_openers: tuple[str, ...]
    paired_joiners: tuple[str, ...]
    year_before: tuple[str, ...]
    abbreviations: frozenset[str]
    conjunctions: tuple[str, ...]
    particles: tuple[str, ...]
    partitive: tuple[str, ...]
    reporting: tuple[str, ...]
    adverbial_particles: tuple[str, ...]
    participle_prefixes: tuple[str, ...]
    place_prepositions: tuple[str, ...]
    rates: tuple[str, ...]
    articles: tuple[str, ...]
    function_words: frozenset[str]
    ordinal_dot: bool
    approximate_suffixes: tuple[str, ...]
    clause_initial_up_to: tuple[str, ...]
    prefixes: tuple[str, ...]
    max_suffix: int
    stemmer: str | None = field(default=None)
    # Dates are written day first ("28 марта"): a number after a month is not its day.
    day_first: bool = field(default=False)
    # Words after a comma that carry the clause before on ("…, in addition to 30 …").
    continuing: tuple[str, ...] = field(default=())
    # Verbs that close a number's clause and qualify it (German: "… übersteigen").
    qualifiers_last: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Verbs of change before "from … to …": two counts, not a range ("rose from 1,002 to 1,644").
    change_openers: tuple[str, ...] = field(default=())
    # Verbs of approaching a number, which make it "nearly" (Arabic puts them first).
    approaching: tuple[str, ...] = field(default=())


# Snowball's algorithm names for the languages it covers (simplemma covers the rest).
_SNOWBALL = {
    "ar": "arabic", "cs": "czech", "de": "german", "en": "english", "es": "spanish",
    "fr": "french", "id": "indonesian", "it": "italian", "nl": "dutch", "pt": "portuguese",
    "ru": "russian", "tr": "turkish", "sv": "swedish", "pl": "polish", "fi": "finnish",
}  # fmt: skip


def _locale(code: str) -> Locale:
    # Babel is imported here, when a language's data is first read: a process that only
    # polls and delivers imports this module (through the pipeline) but reads no language.
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _cldr_names(locale: Locale) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Month and day names of a locale, wide and abbreviated, in both contexts."""
    months: set[str] = set()
    days: set[str] = set()
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            months.update(locale.months[context][width].values())
            days.update(locale.days[context][width].values())
    return _words(sorted(months)), _words(sorted(days))


@lru_cache(maxsize=64)
def language_data(language: str | None) -> LanguageData:
    """The reading data of `language` (ISO 639-1), English words when it has no file."""
    code = base_code(language or "en")
    folder = resources.files("worker") / "lang"
    source = folder / f"{code}.yaml"
    raw = yaml.safe_load((source if source.is_file() else folder / "en.yaml").read_text("utf-8"))
    locale = _locale(code)
    from babel.numbers import get_decimal_symbol, get_group_symbol

    decimal = get_decimal_symbol(locale, numbering_system="latn")
    group = get_group_symbol(locale, numbering_system="latn")
    months, days = _cldr_names(locale)
    return LanguageData(
        code=code,
        script=raw.get("script", "spaced"),
        decimal=decimal,
        groups=frozenset(_SPACES) if group in _SPACES else frozenset({group}),
        scale=_values(raw.get("scale")),
        suffix_scale={str(k): float(v) for k, v in (raw.get("suffix_scale") or {}).items()},
        myriads=_values(raw.get("myriads")),
        number_words={k: v for k, v in _values(raw.get("number_words")).items() if v},
        self_scaled=_values(raw.get("self_scaled")),
        approximate={k: v for k, v in _values(raw.get("approximate")).items() if v},
        counters=_words(raw.get("counters")),
        qualifiers=_qualifiers(raw.get("qualifiers")),
        qualifiers_after=_qualifiers(raw.get("qualifiers_after")),
        passing=_words(raw.get("passing")),
        estimating=_words(raw.get("estimating")),
        planned=_words(raw.get("planned")),
        planned_after=_words(raw.get("planned_after")),
        reach=_words(raw.get("reach")),
        time_units=_words(raw.get("time_units")),
        age_words=_words(raw.get("age_words")),
        date_words=_words(raw.get("date_words")),
        months=months,
        days=days,
        ordinal_before=_words(raw.get("ordinal_before")),
        ordinal_after=_words(raw.get("ordinal_after")),
        money_before=_words(raw.get("money_before")),
        percent=_words(raw.get("percent")),
        range_joiners=_words(raw.get("range_joiners")),
        range_openers=_words(raw.get("range_openers")),
        paired_joiners=_words(raw.get("paired_joiners")),
        year_before=_words(raw.get("year_before")),
        abbreviations=frozenset(_words(raw.get("abbreviations"))),
        conjunctions=_words(raw.get("conjunctions")),
        particles=_words(raw.get("particles")),
        partitive=_words(raw.get("partitive")),
        reporting=_words(raw.get("reporting")),
        adverbial_particles=_words(raw.get("adverbial_particles")),
        participle_prefixes=_words(raw.get("participle_prefixes")),
        place_prepositions=_words(raw.get("place_prepositions")),
        rates=_words(raw.get("rates")),
        articles=_words(raw.get("articles")),
        function_words=frozenset(_words(raw.get("function_words"))),
        ordinal_dot=bool(raw.get("ordinal_dot", False)),
        approximate_suffixes=_words(raw.get("approximate_suffixes")),
        clause_initial_up_to=_words(raw.get("clause_initial_up_to")),
        prefixes=_words(raw.get("prefixes")),
        max_suffix=int(raw.get("max_suffix", 3)),
        stemmer=_SNOWBALL.get(code),
        day_first=bool(raw.get("day_first", False)),
        continuing=_words(raw.get("continuing")),
        change_openers=_words(raw.get("change_openers")),
        approaching=_words(raw.get("approaching")),
        qualifiers_last={k: v for k, v in _qualifiers(raw.get("qualifiers_last")).items() if v},
    )


def supported_languages() -> tuple[str, ...]:
    """The codes that have their own words (`lang/<code>.yaml`), sorted."""
    folder = resources.files("worker") / "lang"
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


def base_code(language: str) -> str:
    """`pt` of `pt-BR`, `pt_BR` or `PT`: the code whose words are read."""
    return language.split("-")[0].split("_")[0].lower()

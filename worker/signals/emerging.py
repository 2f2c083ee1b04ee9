"""Which capitalised names of a document may be suggested as emerging entities (SPEC §3).

A capitalised word sequence is a candidate; what is left out, and why:
- day and month names in every language CLDR knows (Babel): "Thursday", "Kamis", "März";
- words capitalised only because a sentence starts with them ("Welcome", "Meanwhile"):
  a sentence's first word counts when the document also capitalises it mid-sentence, or
  when the language's dictionary (simplemma) does not know it as a word;
- in languages that capitalise every noun (German), a single word the dictionary knows
  ("Angaben", "Erdbeben", "Menschen"): a name standing alone must be one it does not know
  ("Pistorius", "Selenskyj") or come with a first name ("Olaf Scholz");
- possessive and inflected forms ("Russia's", "Russlands") of the topic's tracked names,
  which are not new, and the possessive of any name, which is that name;
- the topic's own names and the words of its title; wire agencies and outlets, and the
  configured source names; unit and role abbreviations ("km", "MW", "CEO");
- anything in the topic's `emerging.ignore`.
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

from worker.config import TopicSettings
from worker.language import language_data
from worker.signals.entities import NOT_NAMES, TITLES
from worker.text import fold, sentences
from worker.words import stem

# A capitalised word (any cased script), optionally joined by hyphens or apostrophes.
_CAPITALISED = r"[^\W\d_a-zß-ÿа-я][\w'’-]*"
_NAME = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}}")
_POSSESSIVE = re.compile(r"(?:['’]s|['’]|-nya)$", re.IGNORECASE)
_QUOTES = '“"‘«(„'

# Languages that capitalise every noun.
NOUN_CAPITALISING = frozenset({"de", "lb"})

# Wire agencies and outlets, whose names stand in datelines and credits of every story.
OUTLETS = frozenset(
    fold(name)
    for name in (
        "AFP", "Agence France-Presse", "Reuters", "AP", "Associated Press", "Bloomberg",
        "Yonhap", "KCNA", "TASS", "RIA Novosti", "RIA", "Interfax", "Xinhua", "Kyodo",
        "Antara", "dpa", "EFE", "ANSA", "UPI", "BBC", "CNN", "Al Jazeera", "NHK", "KBS",
        "Ukrinform", "Sputnik", "RT", "Kompas", "Detik", "Tempo", "CNBC", "Fox News",
        "The Guardian", "Guardian", "New York Times", "Washington Post", "Le Monde",
        "Der Spiegel", "Spiegel", "Tagesschau", "ARD", "ZDF", "Deutsche Welle", "DW", "RFI",
        "Europa Press", "El País", "Kyiv Independent", "Korea Herald", "Korea Times",
        "NK News", "Newsis", "JoongAng", "Chosun", "Meduza", "Kommersant", "Izvestia",
        # Agencies that publish data others report, credited in every story that uses it.
        "USGS", "BMKG",
    )
)  # fmt: skip
# Units, currencies, time zones and roles written in capitals: not names.
ABBREVIATIONS = frozenset(
    fold(word)
    for word in (
        "km", "kg", "mm", "cm", "km2", "mph", "kph", "MW", "GW", "kW", "TWh", "MWh", "GWh",
        "USD", "EUR", "IDR", "RUB", "KRW", "UTC", "GMT", "CET", "CEST", "WIB", "MSK", "KST",
        "CEO", "CFO", "CTO", "COO", "MP", "PM", "GDP", "PhD", "TV", "PDF", "Rp", "OK",
    )
)  # fmt: skip


@lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """Day and month names, folded, in every language CLDR has (wide forms)."""
    from babel import Locale
    from babel.localedata import locale_identifiers

    names: set[str] = set()
    for identifier in locale_identifiers():
        if "_" in identifier:
            continue  # regional variants repeat their language's names
        try:
            locale = Locale.parse(identifier)
            for context in ("format", "stand-alone"):
                names.update(fold(v) for v in locale.months[context]["wide"].values())
                names.update(fold(v) for v in locale.days[context]["wide"].values())
        except (ValueError, KeyError, AttributeError):
            continue
    return frozenset(n for n in names if n)


def _calendar(word: str, language: str | None) -> bool:
    folded = fold(word).rstrip(".")
    if folded in calendar_names():
        return True
    data = language_data(language)
    return folded in data.months or folded in data.days


def _known_word(word: str, language: str | None) -> bool:
    """The language's dictionary knows it as a word (names it does not know are names)."""
    code = (language or "").split("-")[0]
    return code in SUPPORTED_LANGUAGES and bool(simplemma.is_known(word, lang=code))


def _lower_words(text: str) -> frozenset[str]:
    return frozenset(fold(w) for w in re.findall(r"(?<![\w])[a-zß-ÿа-я][\w'’-]*", text))


def _mid_sentence_capitals(text: str) -> frozenset[str]:
    """Words the document capitalises somewhere other than at a sentence's start."""
    found: set[str] = set()
    for sentence in sentences(text):
        for match in re.finditer(_CAPITALISED, sentence.text):
            before = sentence.text[: match.start()].rstrip()
            if match.start() > 0 and before[-1:] not in _QUOTES + ".:!?":
                found.add(fold(_POSSESSIVE.sub("", match.group())))
    return frozenset(found)


def _topic_words(topic: TopicSettings) -> frozenset[str]:
    words = set(fold(topic.title).split())
    for group in topic.relevance.all:
        for name in group.any:
            words.update(fold(name).split())
    for names in topic.entities.values():
        for name in names:
            words.update(fold(name).split())
    return frozenset(words)


def _tracked_form(words: list[str], topic: TopicSettings, language: str | None) -> bool:
    """The name is one of the topic's tracked names, or an inflected form of one."""
    folded = fold(" ".join(words))
    tracked = [fold(n) for names in topic.entities.values() for n in names]
    if folded in tracked:
        return True
    if len(words) != 1:
        return False
    word = fold(words[0])
    single = [name for name in tracked if " " not in name and len(name) >= 4]
    # A case ending of a letter or two: "Nordkoreas", "Kurska", "Rusiya".
    if any(word.startswith(name) and len(word) - len(name) <= 2 for name in single):
        return True
    data = language_data(language)
    if not data.stemmer:
        return False
    word_stem = fold(stem(words[0].lower(), data.code))
    return any(fold(stem(name, data.code)) == word_stem for name in single)


def emerging_names(
    text: str,
    language: str | None,
    topic: TopicSettings,
    outlets: frozenset[str] = frozenset(),
) -> set[str]:
    """The names in `text` that may be suggested as emerging entities on `topic`."""
    lower = _lower_words(text)
    mid = _mid_sentence_capitals(text)
    topic_words = _topic_words(topic)
    ignore = {fold(n) for n in topic.emerging.ignore}
    sources = OUTLETS | {fold(o) for o in outlets}
    noun_language = (language or "").split("-")[0] in NOUN_CAPITALISING
    found: set[str] = set()
    for sentence in sentences(text):
        for match in _NAME.finditer(sentence.text):
            words = [_POSSESSIVE.sub("", w).strip("'’-") for w in match.group().split()]
            words = [w for w in words if w]
            before = sentence.text[: match.start()].rstrip()
            starts = match.start() == 0 or before[-1:] in _QUOTES

            def drop_first(word: str, at_start: bool) -> bool:
                folded = fold(word)
                if folded in NOT_NAMES or folded.rstrip(".") in TITLES:
                    return True
                if folded in sources or folded in ABBREVIATIONS or _calendar(word, language):
                    return True
                if _tracked_form([word], topic, language):
                    return True  # "Nordkoreas Soldaten", "Russian Defence"
                if at_start and folded not in mid:
                    return folded in lower or _known_word(word.lower(), language)
                return False

            if words and drop_first(words[0], starts):
                words = words[1:]
            while words and drop_first(words[0], False):
                words = words[1:]
            while words and drop_first(words[-1], False):
                words = words[:-1]
            if not words or len("".join(words)) <= 2:
                continue
            folded = fold(" ".join(words))
            if folded in sources or folded in ignore or folded in ABBREVIATIONS:
                continue
            if all(w in topic_words for w in folded.split()):
                continue
            if _tracked_form(words, topic, language):
                continue
            if noun_language and len(words) == 1 and _known_word(words[0], language):
                continue
            found.add(" ".join(words))
    return found

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
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from worker.config import TopicSettings
from worker.language import language_data
from worker.signals.entities import NOT_NAMES, TITLES
from worker.text import Sentence, fold, fold_each, sentences
from worker.words import WORD_CACHE, dictionary_languages, is_known, stem

# A capitalised word (any cased script), optionally joined by hyphens or apostrophes.
_CAPITALISED = r"[^\W\d_a-zß-ÿа-я][\w'’-]*"
_NAME = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,7}}")
_POSSESSIVE = re.compile(r"(?:['’]s|['’]|-nya)$", re.IGNORECASE)
_QUOTES = '“"‘«(„'
# What a capitalised word may follow and still open a sentence.
_OPENERS = frozenset(_QUOTES + ".:!?")
_STARTS_AFTER = frozenset(_QUOTES + ":")

# Offices before a name ("Menteri Pertahanan Rustem Umerov", "Verteidigungsminister Boris
# Pistorius"), in the languages of the example topic's feeds; entities.TITLES has more.
OFFICES = frozenset(
    fold(word)
    for word in (
        "pertahanan", "luar", "negeri", "dalam", "keamanan", "dewan", "pemimpin", "kepala",
        "intelijen", "pemerintah", "foreign", "defence", "defense", "interior", "head",
        "leader", "security", "council", "ministre", "ministra", "défense", "défence",
        "extérieurs", "exteriores", "defensa", "presidente", "président", "secrétaire",
        "secretario", "general", "général", "jefe", "chef", "lawmaker", "lawmakers",
        "ukrainian", "russian", "korean", "ukrainischen", "russischen", "ukrainische",
    )
)  # fmt: skip
# German offices are compounds: Verteidigungsminister, Außenministerin, Regierungssprecher.
_OFFICE_ENDINGS = ("minister", "ministerin", "präsident", "präsidentin", "sprecher", "chef")

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


# Written by `python -m worker.signals.emerging` from Babel; a test checks it still matches.
CALENDAR_FILE = "lang/calendar-names.txt"


@lru_cache(maxsize=1)
def calendar_names() -> frozenset[str]:
    """Day and month names, folded, in every language CLDR has (wide forms), as listed in
    lang/calendar-names.txt: reading them from Babel loads every CLDR locale, which cost
    each worker process about 150 MB that it never gave back."""
    text = (resources.files("worker") / CALENDAR_FILE).read_text(encoding="utf-8")
    return frozenset(line for line in text.split("\n") if line)


def babel_calendar_names() -> frozenset[str]:
    """The same names, from Babel's CLDR data (for writing and checking the file)."""
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


def _calendar(word: str, language: str | None, folded: str | None = None) -> bool:
    """`folded`: the word folded, when the caller has it."""
    folded = (fold(word) if folded is None else folded).rstrip(".")
    if folded in calendar_names():
        return True
    data = language_data(language)
    return folded in data.months or folded in data.days


def _known_word(word: str, language: str | None) -> bool:
    """The language's dictionary knows it as a word (names it does not know are names)."""
    code = (language or "").split("-")[0]
    return code in dictionary_languages() and is_known(word, code)


# The word boundary is tested after the first letter (`x(?<!\wx)`), so that a search skips
# to the next lower-case letter in C instead of looking behind at every character.
_LOWER_WORD = re.compile(r"[a-zß-ÿа-я](?<!\w[a-zß-ÿа-я])[\w'’-]*")
_CAPITALISED_WORD = re.compile(_CAPITALISED)


def _lower_words(text: str) -> frozenset[str]:
    return frozenset(fold_each(set(_LOWER_WORD.findall(text))))


def _char_before(text: str, position: int) -> str:
    """The last character before `position` that is not a space ("" at the start): the
    same as `text[:position].rstrip()[-1:]` without copying the text before it."""
    while position > 0 and text[position - 1].isspace():
        position -= 1
    return text[position - 1] if position > 0 else ""


def _mid_sentence_capitals(split: list[Sentence]) -> frozenset[str]:
    """Words the document capitalises somewhere other than at a sentence's start."""
    found: set[str] = set()
    for sentence in split:
        for match in _CAPITALISED_WORD.finditer(sentence.text):
            before = _char_before(sentence.text, match.start())
            if before and before not in _OPENERS:
                found.add(_POSSESSIVE.sub("", match.group()))
    return frozenset(fold_each(found))


# Compared by identity: one instance per topic (`_names_of` caches it), so it keys caches
# without hashing every name of the topic on each look-up.
@dataclass(frozen=True, eq=False)
class _TopicNames:
    """A topic's names, folded once: its tracked names (whole, and as word tuples), the
    single-word ones, and every word of its title, relevance names and entity names."""

    tracked: frozenset[str]
    sequences: tuple[tuple[str, ...], ...]  # longest first
    by_first_word: dict[str, tuple[tuple[str, ...], ...]]  # the sequences, by first word
    single: tuple[str, ...]
    words: frozenset[str]


@lru_cache(maxsize=64)
def _names_of(title: str, relevance: tuple[str, ...], entities: tuple[str, ...]) -> _TopicNames:
    tracked = frozenset(fold(n) for n in entities)
    words = set(fold(title).split())
    for name in (*relevance, *entities):
        words.update(fold(name).split())
    sequences = tuple(sorted({tuple(n.split()) for n in tracked}, key=len, reverse=True))
    by_first_word: dict[str, tuple[tuple[str, ...], ...]] = {}
    for sequence in sequences:
        if sequence:
            by_first_word[sequence[0]] = (*by_first_word.get(sequence[0], ()), sequence)
    return _TopicNames(
        tracked=tracked,
        sequences=sequences,
        by_first_word=by_first_word,
        single=tuple(n for n in tracked if " " not in n and len(n) >= 4),
        words=frozenset(words),
    )


def topic_names(topic: TopicSettings) -> _TopicNames:
    return _names_of(
        topic.title,
        tuple(name for group in topic.relevance.all for name in group.any),
        tuple(name for names in topic.entities.values() for name in names),
    )


def _tracked_form(
    words: list[str], names: _TopicNames, language: str | None, folded: str | None = None
) -> bool:
    """The name is one of the topic's tracked names, or an inflected form of one
    (`folded`: the words joined and folded, when the caller has them)."""
    if (fold(" ".join(words)) if folded is None else folded) in names.tracked:
        return True
    return len(words) == 1 and _tracked_word(words[0], names, language)


# Cached: a document repeats its names, and documents on a topic share most of them.
@lru_cache(maxsize=WORD_CACHE)
def _tracked_word(word_as_written: str, names: _TopicNames, language: str | None) -> bool:
    word = fold(word_as_written)
    # A case ending of a letter or two: "Nordkoreas", "Kurska", "Rusiya".
    if any(word.startswith(name) and len(word) - len(name) <= 2 for name in names.single):
        return True
    data = language_data(language)
    if not data.stemmer:
        return False
    word_stem = fold(stem(word_as_written.lower(), data.code))
    return any(_stem(name, data.code) == word_stem for name in names.single)


@lru_cache(maxsize=4096)
def _stem(name: str, language: str) -> str:
    return fold(stem(name, language))


@dataclass(frozen=True)
class _Context:
    """What one document's candidates are judged against."""

    language: str | None
    names: _TopicNames
    lower: frozenset[str]  # words the document writes in lower case
    mid: frozenset[str]  # words it capitalises mid-sentence
    sources: frozenset[str]
    ignore: frozenset[str]
    # (word, last) → (folded word, never part of a name wherever it stands): a document
    # repeats its capitalised words, and these tests depend on the word alone.
    judged: dict[tuple[str, bool], tuple[str, bool]] = field(default_factory=dict)

    def not_part(self, word: str, at_start: bool, last: bool = False, alone: bool = True) -> bool:
        """A word at either end of a sequence that is not part of the name; `at_start`: it
        opens a sentence, `alone`: no capitalised word follows it."""
        judged = self.judged.get((word, last))
        if judged is None:
            folded = fold(word)
            judged = self.judged[(word, last)] = (folded, self._never_part(word, folded, last))
        folded, never = judged
        if never:
            return True
        if at_start and folded not in self.mid:
            # "Welcome to…" is a word; "Kim Jong Un told…" starts a name, whatever the
            # dictionary says of "Kim".
            return folded in self.lower or (alone and _known_word(word.lower(), self.language))
        return False

    def _never_part(self, word: str, folded: str, last: bool) -> bool:
        # "Kim Jong Un": a capitalised "Un" ending a name is not the article "un".
        if folded in NOT_NAMES and not (last and len(folded) <= 2):
            return True
        if folded.rstrip(".") in TITLES or folded in OFFICES:
            return True
        if folded.endswith(_OFFICE_ENDINGS):
            return True
        if (
            folded in self.sources
            or folded in ABBREVIATIONS
            or _calendar(word, self.language, folded)
        ):
            return True
        # "Nordkoreas Soldaten", "Russian Defence"
        return _tracked_form([word], self.names, self.language, folded)

    def candidate(self, words: list[str], at_start: bool) -> str | None:
        """The name in a piece of a capitalised sequence, or None."""
        while words and self.not_part(words[-1], False, last=True):
            words = words[:-1]
        if words and self.not_part(words[0], at_start, alone=len(words) == 1):
            words = words[1:]
        while words and self.not_part(words[0], False):
            words = words[1:]
        while words and self.not_part(words[-1], False, last=True):
            words = words[:-1]
        if not words or len("".join(words)) <= 2:
            return None
        folded = fold(" ".join(words))
        if folded in self.sources or folded in self.ignore or folded in ABBREVIATIONS:
            return None
        if all(w in self.names.words for w in folded.split()):
            return None
        if _tracked_form(words, self.names, self.language, folded):
            return None
        noun_language = (self.language or "").split("-")[0] in NOUN_CAPITALISING
        if noun_language and len(words) == 1 and _known_word(words[0], self.language):
            return None
        return " ".join(words)


def _pieces(words: list[str], names: _TopicNames) -> list[list[str]]:
    """A capitalised sequence cut where a name ends: after a possessive ("South Korea's |
    National Intelligence Service") and around a tracked name ("Menteri Luar Negeri |
    Korea Utara | Choe Son Hui")."""
    pieces: list[list[str]] = [[]]
    index = 0
    all_folded = [fold(_POSSESSIVE.sub("", w)) for w in words]
    while index < len(words):
        folded = all_folded[index:]
        tracked = names.by_first_word.get(folded[0], ())
        span = next((len(t) for t in tracked if tuple(folded[: len(t)]) == t), 0)
        if span:
            pieces += [words[index : index + span], []]
            index += span
            continue
        word = fold(words[index]).rstrip(".")
        if word in TITLES or word in OFFICES:
            # "NATO Secretary General Mark Rutte": an office separates two names.
            pieces.append([])
        elif words[index].isupper() and len(words[index]) > 1 and len(words) - index > 2:
            # "NATO Mark Rutte": an acronym before a person's name is a name of its own.
            pieces += [[words[index]], []]
        else:
            pieces[-1].append(words[index])
            if _POSSESSIVE.search(words[index]):
                pieces.append([])
        index += 1
    cleaned = [[_POSSESSIVE.sub("", w).strip("'’-") for w in piece] for piece in pieces]
    return [[w for w in piece if w] for piece in cleaned if any(piece)]


def emerging_names(
    text: str,
    language: str | None,
    topic: TopicSettings,
    outlets: frozenset[str] = frozenset(),
    *,
    split: list[Sentence] | None = None,
) -> set[str]:
    """The names in `text` that may be suggested as emerging entities on `topic`
    (`split`: its sentences, when the caller has them)."""
    split = sentences(text) if split is None else split
    context = _Context(
        language=language,
        names=topic_names(topic),
        lower=_lower_words(text),
        mid=_mid_sentence_capitals(split),
        sources=OUTLETS | {fold(o) for o in outlets},
        ignore=frozenset(fold(n) for n in topic.emerging.ignore),
    )
    found: set[str] = set()
    # A document repeats its capitalised sequences ("North Korea", "Kim Jong Un"): each
    # (sequence, whether it opens a sentence) is read once.
    read: set[tuple[str, bool]] = set()
    for sentence in split:
        for match in _NAME.finditer(sentence.text):
            # After a colon a new sentence starts, too ("Read more: How…", "Photo: Rail…").
            before = _char_before(sentence.text, match.start())
            starts = match.start() == 0 or before == "" or before in _STARTS_AFTER
            if (match.group(), starts) in read:
                continue
            read.add((match.group(), starts))
            for number, piece in enumerate(_pieces(match.group().split(), context.names)):
                name = context.candidate(piece, starts and number == 0)
                if name:
                    found.add(name)
    return found


def same_entity(name: str, other: str) -> bool:
    """Two forms of one name: "Belousov" and "Andrei Belousov", "Belousova" and "Belousov"
    (the same last word, give or take a case ending, and no other word in conflict)."""
    a, b = fold(name).split(), fold(other).split()
    if a == b:
        return True
    short, long = sorted((a[-1], b[-1]), key=len)
    if len(short) < 4 or not long.startswith(short) or len(long) - len(short) > 2:
        return False
    return set(a[:-1]) <= set(b[:-1]) or set(b[:-1]) <= set(a[:-1])


if __name__ == "__main__":
    target = resources.files("worker") / CALENDAR_FILE
    names = sorted(babel_calendar_names())
    with resources.as_file(target) as path:
        path.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"{len(names)} names written to {CALENDAR_FILE}")

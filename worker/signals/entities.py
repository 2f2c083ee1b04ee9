"""Entity mentions: the topic's tracked entities, and untracked proper names."""

from __future__ import annotations

import re

from worker.config import TopicSettings
from worker.text import fold, name_pattern, sentences

# A capitalised word (any cased script), optionally joined by hyphens or apostrophes.
_CAPITALISED = r"[^\W\d_a-zß-ÿа-я][\w'’-]*"
_NAME = re.compile(rf"{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}}")
# Short capitalised words that begin sentences or join names but are not names.
NOT_NAMES = {
    "the",
    "a",
    "an",
    "and",
    "but",
    "in",
    "on",
    "at",
    "it",
    "he",
    "she",
    "they",
    "we",
    "i",
    "this",
    "that",
    "these",
    "those",
    "mr",
    "ms",
    "mrs",
    "dr",
    "di",
    "ke",
    "dan",
    "ini",
    "itu",
    "ia",
    "dia",
    "namun",
    "tetapi",
    "yang",
    "para",
    "sang",
    "der",
    "die",
    "das",
    "mereka",
    "kami",
    "kita",
    "saya",
    "sementara",
    "menurut",
    "bahkan",
    "hal",
    "sebuah",
    "seorang",
    "pada",
    "dalam",
    "untuk",
    "dengan",
    "jika",
    "ketika",
    "setelah",
    "sebelum",
    "however",
    "meanwhile",
    "after",
    "before",
    "when",
    "if",
    "as",
    "according",
    "there",
    "his",
    "her",
    "their",
    "our",
    "its",
    "some",
    "many",
    "all",
    "one",
    "two",
    "le",
    "la",
    "les",
    "el",
    "los",
    "las",
    "un",
    "une",
    "il",
    "lo",
    # German, French, Spanish, Indonesian words that open sentences or join names.
    "nach",
    "laut",
    "bei",
    "mit",
    "von",
    "vom",
    "für",
    "auf",
    "aus",
    "im",
    "am",
    "zum",
    "zur",
    "ein",
    "eine",
    "einer",
    "es",
    "sie",
    "er",
    "wir",
    "auch",
    "doch",
    "wie",
    "wenn",
    "dass",
    "als",
    "und",
    "oder",
    "aber",
    "den",
    "dem",
    "des",
    "selon",
    "mais",
    "pour",
    "avec",
    "dans",
    "sur",
    "ce",
    "cette",
    "ils",
    "elle",
    "nous",
    "du",
    "au",
    "aux",
    "según",
    "pero",
    "con",
    "en",
    "por",
    "este",
    "esta",
    "del",
    "al",
    "sus",
    "pihak",
    "sejak",
    "hingga",
    "kini",
    "saat",
    "sebelumnya",
    "selain",
    "oleh",
    "still",
    "also",
    "yet",
    "so",
    "then",
    "later",
    "earlier",
    "separately",
    "officials",
    "it's",
    "we're",
    "there's",
}
# Titles before a name: "General Kim Yong Bok" and "Jenderal Kim Yong Bok" are one name.
TITLES = {
    "general",
    "gen",
    "jenderal",
    "president",
    "presiden",
    "minister",
    "menteri",
    "secretary",
    "sekretaris",
    "colonel",
    "col",
    "kolonel",
    "major",
    "mayor",
    "lieutenant",
    "letnan",
    "admiral",
    "laksamana",
    "marshal",
    "marsekal",
    "captain",
    "kapten",
    "chief",
    "kepala",
    "deputy",
    "wakil",
    "prime",
    "perdana",
    "commander",
    "komandan",
    "sir",
    "herr",
    "frau",
    "monsieur",
    "madame",
    "señor",
    "senor",
    "генерал",
    "президент",
    "министр",
    "prof",
    "pak",
    "bapak",
    "ibu",
    "king",
    "raja",
    "queen",
    "ratu",
    "senator",
    "senador",
    "ambassador",
    "duta",
    "spokesman",
    "spokeswoman",
    "juru",
    "bicara",
}


def tracked_entities(text: str, topic: TopicSettings, title: str = "") -> set[str]:
    """Ids of the topic's entities named in the document."""
    folded = fold(f"{title}\n{text}")
    return {
        entity
        for entity, names in topic.entities.items()
        if name_pattern(tuple(names)).search(folded)
    }


def proper_names(text: str) -> set[str]:
    """Capitalised word sequences (a cheap, script-agnostic NER).

    A sentence's first word is capitalised anyway: it counts only when the document never
    writes it in lower case ("Pentagon mengonfirmasi…" yes, "Namun, …" no).
    """
    lower_words = set(re.findall(r"(?<![\w])[a-zß-ÿа-я][\w'’-]*", text))
    names: set[str] = set()
    for sentence in sentences(text):
        for match in _NAME.finditer(sentence.text):
            words = match.group().split()
            starts = match.start() == 0 or sentence.text[: match.start()].rstrip()[-1:] in '“"‘«('
            if starts and (words[0].lower() in lower_words or fold(words[0]) in NOT_NAMES):
                words = words[1:]
            while words and (fold(words[0]) in NOT_NAMES or fold(words[0]).rstrip(".") in TITLES):
                words = words[1:]
            while words and fold(words[-1]) in NOT_NAMES:
                words = words[:-1]
            if words and len("".join(words)) > 2:
                names.add(" ".join(words).strip("'’-"))
    return names


def all_name_keys(text: str) -> set[str]:
    """Every capitalised word sequence and its words, folded: what the seeds already name."""
    keys: set[str] = set()
    for match in _NAME.finditer(text):
        phrase = fold(match.group())
        keys.add(phrase)
        keys.update(phrase.split())
    return keys


def untracked(names: set[str], topic: TopicSettings) -> set[str]:
    tracked = name_pattern(tuple(n for ns in topic.entities.values() for n in ns))
    return {name for name in names if not tracked.fullmatch(fold(name))}

"""Figure observations (SPEC §3): each number bound to its own phrase, about its entity.

A number's phrase is the stretch of its clause it owns: up to the neighbouring numbers,
split at a conjunction ("1,002 killed, 2,376 injured and 30 missing" is three phrases).
Its unit is a unit word next to it on either side within that phrase; its context and
exclude words are those of the phrase. What it is about: the entity named with its unit,
else the subject of its clause, else the sentence's, else the entity the passage is about
(earlier sentences of the paragraph, then the title, then the lead).

Every step looks at a bounded window around a number, and a document's reading is capped,
so the work is linear in the text (issue 18: a page of interleaved numbers).
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice

from worker.config import FigureSettings, TopicSettings
from worker.language import LanguageData, language_data
from worker.signals.numbers import WINDOW, Quantity, any_of, read_quantities
from worker.text import Sentence, fold, normalise, sentences
from worker.words import WordMatch, lemma_search, scattered_search, word_matcher

log = logging.getLogger(__name__)
# Words after a number that can still be its unit ("10,000 North Korean troops").
UNIT_WORDS_AFTER = 4
# A document longer than this is read up to here: news articles are far shorter, and a
# hostile page must not cost more than a bounded amount of work.
MAX_DOCUMENT_CHARACTERS = 200_000
MAX_NUMBERS_PER_DOCUMENT = 2_000
_CLAUSE_MARKS = ',;:()“”"，、；：（）،؛'
PARTITIVE = "(a share of the count before)"
_DASHED = re.compile(r"[—–]\s*(?:[^\W\d_]{1,3}\s+)?$")
# Korean verb endings that close a clause and join the next: 숨지고, 다쳤으며, 늘었고.
_KO_CONNECTIVES = ("고", "며", "으며", "서", "나", "는데", "지만")
# A place marked as the topic of the clause ("in Thailand, 22 died") is what it is about.
# (Folded, as the text is: folding takes the voicing mark off で.)
_TOPIC_PARTICLES = tuple(fold(p) for p in ("では", "でも", "には", "에서는", "에서도", "에는"))
ELIDED = "(the noun of the count before)"
# Not a comma inside a number ("1,002"), nor Japanese 、 after the topic particle は
# ("死者数は、… 3600人"): the topic belongs to the clause that follows. Each branch starts
# with its mark, so that a search skips to the next mark in C.
_CLAUSE_MARK = re.compile(
    "|".join(re.escape(c) for c in _CLAUSE_MARKS if c not in ",、")
    + r"|,(?<!\d,)|,(?!\d)|、(?<!は、)"
)
_WORD = re.compile(r"[^\W_]+(?:[.'’\-][^\W_]+)*")


@dataclass(frozen=True)
class FigureObservation:
    figure: str
    value: float
    upper: float | None
    qualifier: str
    quote: str
    line: int

    @property
    def high(self) -> float:
        return self.upper if self.upper is not None else self.value


@dataclass(frozen=True)
class NumberReading:
    """One number found in a sentence and what it was read as (for `explain`)."""

    sentence: str
    line: int
    number: str  # as written
    value: float
    upper: float | None
    qualifier: str
    figure: str | None
    reason: str


@dataclass
class FigureReading:
    """Everything read from one document: the observations and why each number counted."""

    observations: list[FigureObservation] = field(default_factory=list)
    numbers: list[NumberReading] = field(default_factory=list)
    capped: bool = False  # the document was longer than the reader reads
    work: int = 0  # characters examined, for the linearity test


@dataclass(frozen=True)
class _Mention:
    entity: str
    start: int
    end: int


@dataclass(frozen=True)
class _Phrase:
    """The stretch of its clause a number owns: [left, start) and [end, right)."""

    left: int
    start: int
    end: int
    right: int
    clause: int  # where the clause begins


class _Discourse:
    """What the passage is about so far: the paragraph's last subject, the title, the lead.

    Sentences without numbers are only searched for names when a later number needs them,
    so most of a document is never scanned for entities.
    """

    def __init__(self, topic: TopicSettings, language: str | None, title: str, lead: str):
        self.topic, self.language = topic, language
        self.title, self.lead = title, lead
        self.paragraph: str | None = None
        self.pending: list[str] = []  # sentences since the last subject, not yet searched
        self.line = 0

    def enter(self, line: int) -> None:
        if line != self.line:
            self.line, self.paragraph, self.pending = line, None, []

    def passed(self, sentence: str) -> None:
        self.pending.append(sentence)

    def settled(self, subject: str | None) -> None:
        self.pending = []
        if subject is not None:
            self.paragraph = subject

    def entity(self) -> tuple[str | None, str]:
        for sentence in reversed(self.pending):
            folded = normalise(sentence)
            data = language_data(self.language)
            # Who reports ("Ukrainian intelligence reported new fighting.") is the source
            # of what follows, not what it is about (where the verb follows its speaker:
            # Korean and Japanese put it last, after what is reported).
            whole = _Phrase(0, len(folded), len(folded), len(folded), 0)
            spaced = data.script in ("spaced", "arabic")
            spoken = _reported_from(folded, whole, data) if spaced else 0
            mentions = [
                m
                for m in _mentions(folded, self.topic, self.language, sentence)
                if m.start >= spoken
            ]
            subject = _subject(folded, sentence, self.topic, self.language, mentions)
            if subject is not None:
                self.paragraph = subject
                break
        self.pending = []
        if self.paragraph:
            return self.paragraph, "an earlier sentence of the paragraph"
        if self.title and (entity := _first_entity(self.title, self.topic, self.language)):
            return entity, "the title"
        return _first_entity(self.lead, self.topic, self.language), "the lead"


@lru_cache(maxsize=256)
def _entity_names(entities: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    return {name.strip(): entity for entity, names in entities for name in names}


def _mentions(
    folded: str, topic: TopicSettings, language: str | None, source: str | None = None
) -> list[_Mention]:
    """The topic's entities named in the text, in order (one scan for all their names)."""
    entities = tuple((entity, tuple(names)) for entity, names in topic.entities.items())
    owner = _entity_names(entities)
    matcher = word_matcher(tuple(owner), language)
    return [
        _Mention(owner[m.name], m.start, m.end) for m in matcher.finditer(folded, source=source)
    ]


def _first_entity(text: str, topic: TopicSettings, language: str | None) -> str | None:
    mentions = _mentions(normalise(text[:2000]), topic, language, text[:2000])
    return mentions[0].entity if mentions else None


def _clause_marks(folded: str, data: LanguageData) -> list[int]:
    """Positions of clause punctuation, not the commas inside numbers ("1,002"), nor a
    comma before words that carry the clause on ("…, in addition to 30 North Koreans")."""
    return [
        m.start()
        for m in _CLAUSE_MARK.finditer(folded)
        if not (data.continuing and _starts_with_any(folded[m.end() : m.end() + 30], data))
    ]


def _starts_with_any(text: str, data: LanguageData) -> bool:
    stripped = text.lstrip()
    return any(
        stripped.startswith(p) and (len(stripped) == len(p) or not stripped[len(p)].isalnum())
        for p in data.continuing
    )


# Built once per language (its data is one object per language, compared by identity).
@lru_cache(maxsize=64)
def _second_subject_pattern(data: LanguageData) -> re.Pattern[str]:
    conjunctions = "|".join(re.escape(c) for c in data.conjunctions)
    articles = "|".join(re.escape(a) for a in data.articles)
    return re.compile(rf"(?<!\w)(?:{conjunctions})\s+(?:{articles})(?!\w)")


@lru_cache(maxsize=64)
def _conjunction_pattern(data: LanguageData) -> re.Pattern[str] | None:
    """Any of the language's conjunctions as a word: its first match is where the first
    of them to occur begins."""
    if not data.conjunctions:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(c)}(?!\w)" for c in data.conjunctions))


def _second_subject(text: str, data: LanguageData) -> int | None:
    """Where a conjunction followed by an article begins ("e o de feridos", "and the
    number of injured"): the words after it are another subject's, not this number's."""
    if not data.articles:
        return None
    match = _second_subject_pattern(data).search(text)
    return match.start() if match else None


def _split(gap: str, data: LanguageData) -> int:
    """Where the words between two numbers stop belonging to the first: at a conjunction,
    else after a few words."""
    lowered = gap
    best = -1
    if data.script in ("cjk", "hangul"):
        for conjunction in data.conjunctions:
            at = lowered.find(conjunction)
            if at != -1 and (best == -1 or at < best):
                best = at
    elif (pattern := _conjunction_pattern(data)) is not None:
        match = pattern.search(lowered)
        best = match.start() if match else -1
    words = list(_WORD.finditer(gap))
    if data.script == "hangul" and best == -1:
        # Korean puts the verb after its number and the noun before the next one:
        # "1644명이 숨지고 | 3408명이", "7.7 | 지진의 사망자가 1002명".
        joined = next((w.end() for w in words if w.group().endswith(_KO_CONNECTIVES)), None)
        return joined if joined is not None else (words[0].end() if words and gap[:1] != " " else 0)
    if data.script == "arabic":
        # "و" (and) is written on the word it joins: "1700 وعدد المصابين 3400".
        joined = next((w.start() for w in words if w.group().startswith("و")), -1)
        if joined != -1 and (best == -1 or joined < best):
            best = joined
    if best != -1:
        return best
    return words[UNIT_WORDS_AFTER - 1].end() if len(words) > UNIT_WORDS_AFTER else len(gap)


def _phrases(folded: str, quantities: list[Quantity], data: LanguageData) -> list[_Phrase]:
    marks = _clause_marks(folded, data)
    phrases = []
    for i, quantity in enumerate(quantities):
        at = bisect.bisect_left(marks, quantity.start)
        clause = marks[at - 1] + 1 if at > 0 else 0
        after = bisect.bisect_left(marks, quantity.end)
        clause_end = marks[after] if after < len(marks) else len(folded)
        left = max(clause, quantity.start - 4 * WINDOW)
        # A year between the predicate and the number owns none of it ("capturó en enero
        # de 2025 a dos soldados").
        before = [q for q in quantities[:i] if not q.year_like]
        if before and before[-1].end > clause:
            previous = before[-1]
            left = previous.end + _split(folded[previous.end : quantity.start], data)
        right = min(clause_end, quantity.end + 4 * WINDOW)
        if i + 1 < len(quantities) and quantities[i + 1].start < clause_end:
            following = quantities[i + 1]
            right = quantity.end + _split(folded[quantity.end : following.start], data)
            if folded[quantity.end : following.start].strip() in data.range_joiners:
                # "pasó de 1.002 a 1.644 muertos": both counts are of the noun after them.
                right = min(clause_end, following.end + 4 * WINDOW)
        elif (cut := _second_subject(folded[quantity.end : right], data)) is not None:
            # "3.564 e o de feridos": a conjunction with an article starts another subject.
            right = quantity.end + cut
        phrases.append(_Phrase(left, quantity.start, quantity.end, right, clause))
    return phrases


def _unit(
    folded: str,
    source: str,
    phrase: _Phrase,
    figure: FigureSettings,
    language: str | None,
    data: LanguageData,
) -> WordMatch | None:
    """A unit word next to the number: a few words after it, else before it in its phrase.

    Where the figure has context words, one right after the number is its unit too
    ("38,000 killed or wounded").
    """
    after = folded[phrase.end : phrase.right]
    # Articles and prepositions do not count ("3 mil 354 aumentó el número de muertos").
    # (The first few only: the phrase may run on for dozens of words.)
    content = (w for w in _WORD.finditer(after) if w.group() not in data.function_words)
    words = list(islice(content, UNIT_WORDS_AFTER))
    if data.script in ("spaced", "arabic"):
        limit = phrase.end + (words[-1].end() if words else 0)
    else:
        limit = min(phrase.right, phrase.end + 12)
    units = word_matcher(tuple(figure.units), language)
    if match := units.search(folded, phrase.end, limit, source):
        return match
    if match := lemma_search(
        source, phrase.end, min(limit, len(source)), tuple(figure.units), language
    ):
        return match
    if figure.context:
        # A predicate within three words after it: "2.700 han resultado heridos".
        near = phrase.end + (words[min(2, len(words) - 1)].end() if words else 0)
        if data.script not in ("spaced", "arabic"):
            near = min(phrase.right, phrase.end + 6)
        context = word_matcher(tuple(figure.context), language)
        if match := context.search(folded, phrase.end, near, source):
            return match
        if match := lemma_search(
            source, phrase.end, min(near, len(source)), tuple(figure.context), language
        ):
            return match
    before = list(units.finditer(folded, phrase.left, phrase.start, source))
    if before:
        return before[-1]
    if partitive := _partitive(folded, phrase, data):
        return partitive
    if figure.context and _ends_with_any(folded[phrase.left : phrase.start], data.reach):
        # "the number killed had risen to 694": the predicate names what is counted.
        said = list(
            word_matcher(tuple(figure.context), language).finditer(
                folded, phrase.left, phrase.start, source
            )
        )
        if said:
            return said[-1]
    return None


def _has_word(
    folded: str, start: int, end: int, words: tuple[str, ...], data: LanguageData
) -> str | None:
    text = folded[start:end]
    if not words or not any_of(words).search(text):
        return None
    for word in words:
        at = text.find(word)
        if at == -1:
            continue
        if data.script in ("cjk", "hangul"):
            return word
        after = at + len(word)
        if (at == 0 or not text[at - 1].isalnum()) and (
            after == len(text) or not text[after].isalnum()
        ):
            return word
    return None


def _context_near(
    folded: str, source: str, phrase: _Phrase, figure: FigureSettings, language: str | None
) -> bool:
    """A context word of the number's own phrase: a few words after it ("2 тысяч погибли")
    or before it ("وأصيب 3900 آخرون")."""
    words = list(islice(_WORD.finditer(folded, phrase.end, phrase.right), 3))
    near = words[-1].end() if words else phrase.end
    matcher = word_matcher(tuple(figure.context), language)
    names = tuple(figure.context)
    return bool(
        matcher.search(folded, phrase.left, near, source)
        or lemma_search(source, phrase.left, min(near, len(source)), names, language)
    )


def _ends_with_any(text: str, phrases: tuple[str, ...]) -> bool:
    stripped = text.rstrip()
    return any(
        stripped.endswith(p) and (len(stripped) == len(p) or not stripped[-len(p) - 1].isalnum())
        for p in phrases
    )


def _partitive(folded: str, phrase: _Phrase, data: LanguageData) -> WordMatch | None:
    """ "4,000 of them", "其中4000人": a share of the count just given, which is its unit."""
    after = folded[phrase.end : min(phrase.right, phrase.end + 24)]
    for word in data.partitive:
        at = after.find(word)
        if at != -1 and not after[:at].strip(" ,"):
            return WordMatch(phrase.end + at, phrase.end + at + len(word), PARTITIVE)
    before = folded[max(phrase.left, phrase.start - 24) : phrase.start].rstrip(" ,")
    for word in data.partitive:
        # Right before it, or before its qualifier ("among them about 11,000").
        at = before.rfind(word)
        if at != -1 and len(_WORD.findall(before[at + len(word) :])) <= 2:
            start = phrase.start - len(before) + at
            return WordMatch(start, start + len(word), PARTITIVE)
    return None


def _with_unit(
    folded: str, phrase: _Phrase, unit: WordMatch, mention: _Mention, own: bool, data: LanguageData
) -> bool:
    """Whether an entity is named with the unit: between it and the number (for the
    number's own unit), right after it, or right before it ("Myanmar's toll", "러시아군 사상자")."""
    spaced = data.script in ("spaced", "arabic")
    low, high = min(phrase.end, unit.start), max(phrase.start, unit.end)
    # Between a unit and the number after it stand complements ("tués à Koursk a dépassé").
    inside = own and unit.start >= phrase.end and low <= mention.start and mention.end <= high
    # Only where modifiers may follow the noun ("troops from North Korea" is not; but
    # Korean, Japanese and Chinese put every modifier before it).
    gap = folded[unit.end : mention.start]
    right_after = spaced and mention.start >= unit.end and not gap.strip()
    if data.script == "arabic":
        # The possessor follows the noun, with its own noun between ("خسائر الجيش الروسي":
        # the losses of the Russian army), never a preposition ("جندي إلى روسيا"); a name
        # before the unit is not its possessor.
        words = _WORD.findall(gap)
        possessor = (
            mention.start >= unit.end
            and len(words) <= 1
            and not _CLAUSE_MARK.search(gap)
            and not any(w in data.place_prepositions for w in words)
        )
        return inside or right_after or possessor
    between = folded[mention.end : unit.start]
    # Without spaces between words, "with it" is a character or two (朝鲜士兵, 俄军的士兵).
    # At most a possessive ending between ("Myanmar's toll"), or a character or two where
    # words have no spaces (朝鲜士兵, 俄军的士兵).
    words = _WORD.findall(between)
    close = (
        (len(words) == 0 or (len(words) == 1 and len(words[0]) <= 2))
        if spaced
        else (len(between.strip()) <= 2)
    )
    right_before = mention.end <= unit.start and phrase.left <= mention.start and close
    return inside or right_after or right_before


def _adverbial(folded: str, mention: _Mention, data: LanguageData, actors: set[str]) -> bool:
    """A name marked as a place or goal, not a subject: by a particle (러시아에, ロシアに), or
    by a preposition when the entity is only ever a place to the topic (в Курской области)."""
    after = folded[mention.end : mention.end + 4]
    named = folded[mention.start : mention.end]  # Hangul names carry their particle
    if any(after.startswith(p) or named.endswith(p) for p in _TOPIC_PARTICLES):
        return False  # "タイでは22人", "태국에서는": the topic of what follows
    if any(after.startswith(p) or named.endswith(p) for p in data.adverbial_particles):
        return True
    before = folded[max(0, mention.start - 12) : mention.start]
    if data.script == "cjk":  # 在俄罗斯, 向俄罗斯: a place or goal, whoever it is
        return any(before.endswith(p) for p in data.place_prepositions)
    if mention.entity in actors:
        return False
    return _ends_with_any(before, data.place_prepositions)


def _subject(
    folded: str,
    source: str,
    topic: TopicSettings,
    language: str | None,
    mentions: list[_Mention] | None = None,
) -> str | None:
    """What a sentence is about: its first name that is not a place, a goal or (in Korean
    and Japanese) a possessor."""
    if mentions is None:
        mentions = _mentions(folded, topic, language, source)
    if not mentions:
        return None
    data = language_data(language)
    actors = {f.about for f in topic.figures.values()}
    subjects = [
        m
        for m in mentions
        if not _adverbial(folded, m, data, actors)
        and not (data.adverbial_particles and _possessive(folded, m))
    ]
    return (subjects or mentions)[0].entity


def _possessive(folded: str, mention: _Mention) -> bool:
    after = folded[mention.end : mention.end + 1]
    return after in ("의", "の") or folded[mention.end - 1 : mention.end] == "의"


def _reported_from(folded: str, phrase: _Phrase, data: LanguageData) -> int:
    """Where the reported clause begins: after the last reporting verb before the number."""
    clause = folded[phrase.clause : phrase.start]
    last = -1
    for verb in data.reporting:
        at = clause.rfind(verb)
        while at != -1:
            end = at + len(verb)
            bounded = data.script in ("cjk", "hangul") or (
                (at == 0 or not clause[at - 1].isalnum())
                and (end == len(clause) or not clause[end].isalnum())
            )
            if bounded:
                last = max(last, end)
                break
            at = clause.rfind(verb, 0, at)
    return phrase.clause + last if last != -1 else phrase.clause


def _about(
    folded: str,
    phrase: _Phrase,
    units: list[WordMatch],
    mentions: list[_Mention],
    discourse: _Discourse,
    data: LanguageData,
    actors: set[str],
    previous: str | None,
) -> tuple[str | None, str]:
    """The entity the number is about and how that was decided."""
    for index, unit in enumerate(units):
        for mention in mentions:
            if data.adverbial_particles and _adverbial(folded, mention, data, actors):
                continue
            if _with_unit(folded, phrase, unit, mention, index == 0, data):
                return mention.entity, "named with its unit"
    if previous and _partitive(folded, phrase, data):
        return previous, "a share of the count before it"
    if units and units[0].name == PARTITIVE:
        for mention in mentions:
            # "11,000 from North Korea"; not a place ("… have reached Kursk").
            if phrase.end <= mention.start < phrase.right and mention.entity in actors:
                return mention.entity, "named after the share"
    subjects = [
        m
        for m in mentions
        if phrase.clause <= m.start
        and m.end <= phrase.start
        and not _adverbial(folded, m, data, actors)
    ]
    if subjects:
        # Names before a reporting verb are the speaker ("Ukraine said Russia's losses…"):
        # a name after it is the subject of what is reported.
        spoken = _reported_from(folded, phrase, data)
        reported = [m for m in subjects if m.start >= spoken]
        if reported or spoken == phrase.clause or not _partitive(folded, phrase, data):
            return (reported or subjects)[0].entity, "the subject of its clause"
        # "Ukraine said 4,000 of them…": the share is of a group named before, not the speaker.
        return discourse.entity()
    earlier = [
        m for m in mentions if m.end <= phrase.clause and not _adverbial(folded, m, data, actors)
    ]
    if earlier:
        # The nearest clause before that names one ("In Bangkok, the number … rose to 18").
        first = len(earlier) - 1
        while first > 0 and not _CLAUSE_MARK.search(
            folded, earlier[first - 1].end, earlier[first].start
        ):
            first -= 1
        return earlier[first].entity, "the subject of its sentence"
    return discourse.entity()


def _judge(
    folded: str,
    source: str,
    quantity: Quantity,
    phrase: _Phrase,
    topic: TopicSettings,
    figure: FigureSettings,
    mentions: list[_Mention],
    discourse: _Discourse,
    language: str | None,
    data: LanguageData,
    previous: str | None,
    unit: WordMatch | None,
    elided: WordMatch | None = None,
) -> tuple[bool, str]:
    """Whether `quantity` is an observation of `figure`, and why (or why not).

    `elided` is the unit of the count before it in the sentence, which a number without
    its own may share ("200 soldados norcoreanos y unos 400 rusos").
    """
    named_after = next(
        (
            m
            for m in mentions
            if phrase.end <= m.start <= phrase.end + 6
            and len(folded[phrase.end : m.start].strip()) <= 3  # "22 na Tailândia"
        ),
        None,
    )
    shares = unit is None and elided is not None and not quantity.word
    # "в соседнем Таиланде — 22": a dash stands for the noun and verb of the clause before.
    # So does a clause of a name and the number alone, last in its sentence ("…, die
    # nordkoreanischen rund 4.000.").
    verbless = (
        phrase.clause > 0
        and not folded[phrase.end :].strip(" .!?…")
        and len(_WORD.findall(folded, phrase.clause, phrase.start)) <= 3
    )
    gapped = (
        next((m for m in mentions if phrase.clause <= m.start < phrase.start), None)
        if shares
        and (
            verbless or _DASHED.search(folded, max(phrase.clause, phrase.start - 12), phrase.start)
        )
        else None
    )
    if shares and (
        named_after is not None
        or gapped is not None
        or (figure.context and _context_near(folded, source, phrase, figure, language))
    ):
        unit = WordMatch(phrase.end, phrase.end, ELIDED)
        named_after = named_after or gapped
    if unit is None:
        return False, "no unit"
    if data.script == "cjk" and unit.name in data.counters and unit.start >= phrase.end:
        # "5万名观众": a counter followed by another noun counts that noun.
        following = folded[unit.end : unit.end + 1]
        particle = "\u3041" <= following <= "\u309f"  # hiragana: が, を, の…
        qualified = any(
            folded.startswith(p, unit.end) for ps in data.qualifiers_after.values() for p in ps
        )  # "300人近く", "1万人超", "3000人余り"
        if (
            following.isalpha()
            and not particle
            and not qualified
            and not any(
                word_matcher(tuple(words), language).search(folded, unit.end, unit.end + 6)
                for words in (figure.units, figure.context, figure.exclude)
                if words
            )
        ):
            return False, f"counts '{folded[unit.end : unit.end + 4]}'"
    rate = _has_word(folded, phrase.left, phrase.right, data.rates, data)
    if rate:
        return False, f"a rate ('{rate}')"
    if quantity.word and unit.start < phrase.end:
        return False, "a number word without its noun after it"
    if quantity.year_like and not _counts(folded, quantity, unit, data):
        return False, "a year"
    # A number sharing the noun of the count before shares its predicate too.
    # So does one the words before it carry on from it ("…، إضافة إلى 30 جنديا").
    carried = _ends_with_any(folded[phrase.clause : phrase.start], data.continuing)
    span = (phrase.clause if unit.name == ELIDED or carried else phrase.left, phrase.right)
    if unit.name == ELIDED and gapped is not None and named_after is gapped:
        # The dash stands for the verb too: the predicate is the clause before's.
        span = (0, phrase.right)
    if figure.exclude:
        excluded = (
            word_matcher(tuple(figure.exclude), language).search(folded, *span, source)
            or lemma_search(source, *span, tuple(figure.exclude), language)
            or scattered_search(source, *span, tuple(figure.exclude), language)
        )
        if excluded:
            return False, f"excluded by '{folded[excluded.start : excluded.end]}'"
    context = word_matcher(tuple(figure.context), language)
    if (
        figure.context
        and not context.search(folded, *span, source)
        and not lemma_search(source, *span, tuple(figure.context), language)
        and not scattered_search(source, *span, tuple(figure.context), language)
    ):
        return False, "no context word"
    units = [unit] + [
        u
        for u in word_matcher(tuple(figure.units), language).finditer(folded, *span, source)
        if u.start != unit.start
    ]
    actors = {f.about for f in topic.figures.values()}
    entity: str | None
    if unit.name == ELIDED and named_after is not None:
        entity, how = named_after.entity, "named after it, the noun shared with the count before"
    else:
        entity, how = _about(folded, phrase, units, mentions, discourse, data, actors, previous)
    if entity is None:
        return False, "about no entity of the topic"
    if entity != figure.about:
        return False, f"about {entity} ({how})"
    unit_text = folded[unit.start : unit.end]
    return True, f"unit '{unit_text}', about {entity} ({how})"


def _counts(folded: str, quantity: Quantity, unit: WordMatch, data: LanguageData) -> bool:
    """A bare 1800–2100 counts something when its unit follows it or a verb of reaching
    or a qualifier comes before it ("climbed to 2,065", "bei 2065")."""
    if unit.start >= quantity.end:
        return True
    if quantity.qualifier != "exact":
        return True
    before = folded[max(0, quantity.start - WINDOW) : quantity.start].rstrip()
    return any(before.endswith(word) for word in data.reach)


def _read_sentence(
    sentence: Sentence,
    language: str | None,
    topic: TopicSettings,
    discourse: _Discourse,
    reading: FigureReading,
) -> None:
    data = language_data(language)
    folded = normalise(sentence.text)
    reading.work += len(folded)
    quantities = read_quantities(sentence.text, language, loose=True, folded=folded)
    if not quantities:
        discourse.passed(sentence.text)
        return
    mentions = _mentions(folded, topic, language, sentence.text)
    phrases = _phrases(folded, quantities, data)
    previous: str | None = None  # the entity of the count before, for "4,000 of them"
    units_before: dict[str, WordMatch] = {}  # each figure's unit of the counts before
    for quantity, phrase in zip(quantities, phrases, strict=True):
        if (
            data.script == "arabic"
            and quantity.qualifier == "exact"
            and _has_word(folded, phrase.clause, phrase.start, data.passing, data)
        ):
            # Arabic puts the verb first: "تجاوز عدد القتلى في ميانمار 3000".
            quantity = replace(quantity, qualifier="more than")
        elif (
            data.script == "arabic"
            and quantity.qualifier == "exact"
            and _has_word(folded, phrase.clause, phrase.start, data.approaching, data)
        ):
            # "اقترب عدد ضحايا الزلزال في ميانمار من 3500": approaching it, nearly.
            quantity = replace(quantity, qualifier="nearly")
        if (
            quantity.qualifier == "exact"
            and folded[phrase.clause : phrase.start].strip() in data.clause_initial_up_to
        ):
            quantity = replace(quantity, qualifier="up to")
        if len(reading.numbers) >= MAX_NUMBERS_PER_DOCUMENT:
            reading.capped = True
            break
        reading.work += (phrase.right - phrase.left) * max(1, len(topic.figures))
        reasons = []
        read = False
        entity: str | None = None
        for figure_id, figure in topic.figures.items():
            own = _unit(folded, sentence.text, phrase, figure, language, data)
            ok, reason = _judge(
                folded,
                sentence.text,
                quantity,
                phrase,
                topic,
                figure,
                mentions,
                discourse,
                language,
                data,
                previous,
                own,
                units_before.get(figure_id),
            )
            if own is not None:
                units_before[figure_id] = own
            if ok:
                read = True
                entity = figure.about
                reading.observations.append(
                    FigureObservation(
                        figure_id,
                        quantity.value,
                        quantity.upper,
                        quantity.qualifier,
                        sentence.text,
                        sentence.line,
                    )
                )
                reading.numbers.append(_number(sentence, quantity, figure_id, reason))
            else:
                reasons.append(f"{figure_id}: {reason}")
        if not read:
            reading.numbers.append(_number(sentence, quantity, None, "; ".join(reasons)))
        previous = entity
    discourse.settled(_subject(folded, sentence.text, topic, language, mentions))


def _number(
    sentence: Sentence, quantity: Quantity, figure: str | None, reason: str
) -> NumberReading:
    return NumberReading(
        sentence.text,
        sentence.line,
        quantity.text,
        quantity.value,
        quantity.upper,
        quantity.qualifier,
        figure,
        reason,
    )


def read_figures(
    text: str, language: str | None, topic: TopicSettings, title: str = ""
) -> FigureReading:
    """Every number of a document and what it was read as, for the topic's figures."""
    reading = FigureReading()
    if not topic.figures:
        return reading
    if len(text) > MAX_DOCUMENT_CHARACTERS:
        log.info("document of %d characters read up to %d", len(text), MAX_DOCUMENT_CHARACTERS)
        text, reading.capped = text[:MAX_DOCUMENT_CHARACTERS], True
    discourse = _Discourse(topic, language, title, text.split("\n", 1)[0])
    abbreviations = language_data(language).abbreviations
    for sentence in sentences(text, abbreviations):
        if len(reading.numbers) >= MAX_NUMBERS_PER_DOCUMENT:
            log.info("more than %d numbers in one document; the rest skipped", len(reading.numbers))
            reading.capped = True
            break
        discourse.enter(sentence.line)
        _read_sentence(sentence, language, topic, discourse, reading)
    return reading


def observe_figures(
    text: str, language: str | None, topic: TopicSettings, title: str = ""
) -> list[FigureObservation]:
    """Every observation of the topic's figures in a document's text."""
    return read_figures(text, language, topic, title).observations

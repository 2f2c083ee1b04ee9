"""The figure reader's work is linear in the text and a document's reading is capped
(issue 18: a 0.37 MB page of interleaved numbers took 198 s)."""

from tests.conftest import DATA
from tests.signals.test_seed import ENV, ROOT
from worker.config import load_config
from worker.signals.figures import MAX_DOCUMENT_CHARACTERS, MAX_NUMBERS_PER_DOCUMENT, read_figures

HOSTILE = (DATA / "hostile" / "text-interleaved-numbers.txt").read_text(encoding="utf-8")
TOPIC = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]
# Characters examined per character of text: the sentence once, and each number's own
# phrase once per figure (phrases do not overlap).
WORK_PER_CHARACTER = 2 + 2 * len(TOPIC.figures)


def test_work_grows_linearly_with_the_text() -> None:
    small = read_figures(HOSTILE[:8_000], "en", TOPIC)
    large = read_figures(HOSTILE[:16_000], "en", TOPIC)
    assert not small.capped and not large.capped
    assert small.work <= WORK_PER_CHARACTER * 8_000
    assert large.work <= WORK_PER_CHARACTER * 16_000
    assert large.work / small.work < 2.3


def test_a_hostile_page_is_read_up_to_the_cap() -> None:
    reading = read_figures(HOSTILE, "en", TOPIC)
    assert len(HOSTILE) > MAX_DOCUMENT_CHARACTERS
    assert reading.capped
    assert len(reading.numbers) <= MAX_NUMBERS_PER_DOCUMENT + len(TOPIC.figures)
    assert reading.work <= WORK_PER_CHARACTER * MAX_DOCUMENT_CHARACTERS


def test_one_endless_sentence_is_bounded_too() -> None:
    sentence = " ".join(f"{n} troops and" for n in range(1, 20_000))
    reading = read_figures(sentence, "en", TOPIC, title="North Korea sends troops to Russia")
    assert reading.work <= WORK_PER_CHARACTER * len(sentence)

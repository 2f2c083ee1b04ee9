"""Language detection reads py3langid's model mapped from an unpacked copy on disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from py3langid.langid import _load_identifier

from tests.support import DATA, SEED
from worker.articles import language
from worker.articles.language import SAMPLE_CHARACTERS, detect_language

TEXTS = {
    "en": "The ministry said on Monday that about 1,200 soldiers had been sent to the border.",
    "de": "Das Ministerium teilte am Montag mit, dass rund 1.200 Soldaten an die Grenze kamen.",
    "fr": "Le ministère a indiqué lundi qu'environ 1 200 soldats avaient été envoyés à la frontière.",
    "id": "Kementerian mengatakan pada hari Senin bahwa sekitar 1.200 tentara dikirim ke perbatasan.",
    "ru": "Министерство сообщило в понедельник, что к границе направлены около 1200 солдат.",
    "ar": "قالت الوزارة يوم الاثنين إن نحو 1200 جندي أرسلوا إلى الحدود الشمالية للبلاد.",
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    language._identifier.cache_clear()
    yield tmp_path / "cache"
    language._identifier.cache_clear()


def test_the_mapped_model_reads_as_py3langid_itself(cache: Path) -> None:
    own = _load_identifier(norm_probs=True)
    for code, text in TEXTS.items():
        assert detect_language(text) == code
        assert language._identifier().classify(text) == own.classify(text)
    unpacked = next((cache / "newswatch").glob("py3langid-*"))
    assert {p.name for p in unpacked.iterdir()} == {"ptc.npy", "nextmove.npy", "small.npz"}
    # A second process finds the copy and maps it.
    language._identifier.cache_clear()
    assert [detect_language(t) for t in TEXTS.values()] == list(TEXTS)


def test_without_a_writable_cache_the_model_is_read_into_memory(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache.write_text("a file where the cache folder would be")
    assert [detect_language(t) for t in TEXTS.values()] == list(TEXTS)
    assert "not mapped from a cache" in caplog.text


def test_a_damaged_copy_in_the_cache_is_read_around(
    cache: Path, caplog: pytest.LogCaptureFixture
) -> None:
    detect_language(TEXTS["en"])
    unpacked = next((cache / "newswatch").glob("py3langid-*"))
    (unpacked / "ptc.npy").write_bytes(b"not an array")
    language._identifier.cache_clear()
    assert [detect_language(t) for t in TEXTS.values()] == list(TEXTS)
    assert "not mapped from a cache" in caplog.text


def _passages() -> list[str]:
    """Texts in every language the tests hold: the figure set's passages (held out too),
    the emerging-name articles, the seed, and strings that are barely text."""
    texts = [SEED.read_text(encoding="utf-8")]
    for path in sorted((DATA / "figures").glob("**/*.yaml")):
        items = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("items") or []
        texts += [item["text"] for item in items if isinstance(item, dict) and "text" in item]
    articles = yaml.safe_load((DATA / "emerging" / "articles.yaml").read_text(encoding="utf-8"))
    texts += [article["text"] for article in articles["articles"]]
    return [*texts, "", "a", "AB CD", "\x00\x01", "   ", "😀 🇺🇦", "1234 5678", "ÀÉÎ õü"]


def test_the_numpy_walk_scores_every_text_as_py3langid_does() -> None:
    own = _load_identifier(norm_probs=True)
    identifier = language._identifier()
    assert type(identifier).__name__ == "WalkingIdentifier"
    passages = _passages()
    assert len(passages) > 500
    for text in passages:
        sample = text[:SAMPLE_CHARACTERS]
        # Bit for bit: the probabilities, not only the language chosen.
        assert identifier._decide(sample).tobytes() == own._decide(sample).tobytes(), text
        assert identifier.classify(sample) == own.classify(sample)

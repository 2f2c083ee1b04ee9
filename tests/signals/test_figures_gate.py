"""Quality gate: the figure reader on the development set (tests/data/figures/) must not
fall below pinned floors (measured by bench/figures.py, bench/results/figures.json)."""

import pytest

from bench.figures import evaluate

# Floors a little under the measured figures, so a change that loses readings fails here.
PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.91
RECALL_FLOOR_BY_LANGUAGE = {
    "ar": 0.92, "cs": 0.87, "de": 0.91, "en": 0.89, "es": 0.91, "fr": 0.91, "id": 0.9,
    "ja": 0.85, "ko": 0.87, "pt": 0.9, "ru": 0.86, "uk": 0.96, "zh": 0.89,
}  # fmt: skip


@pytest.fixture(scope="module")
def result() -> dict:
    return evaluate()


def test_the_set_covers_twelve_languages_and_five_hundred_items(result: dict) -> None:
    assert result["items"] >= 500
    assert len(result["languages"]) >= 12


def test_precision_and_recall_stay_above_their_floors(result: dict) -> None:
    assert result["newswatch"]["precision"] >= PRECISION_FLOOR, result["newswatch"]
    assert result["newswatch"]["recall"] >= RECALL_FLOOR, result["newswatch"]


@pytest.mark.parametrize("language", sorted(RECALL_FLOOR_BY_LANGUAGE))
def test_each_language_stays_above_its_recall_floor(result: dict, language: str) -> None:
    scores = result["languages"][language]["newswatch"]
    assert scores["recall"] >= RECALL_FLOOR_BY_LANGUAGE[language], scores


def test_the_reader_beats_the_naive_baseline(result: dict) -> None:
    ours, naive = result["newswatch"], result["naive"]
    assert ours["precision"] > (naive["precision"] or 0) and ours["recall"] > naive["recall"]

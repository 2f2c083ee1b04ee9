"""Quality gates: extraction must not fall below pinned floors (measured in bench/)."""

from bench.extraction import benchmark_pages, built_pages, evaluate, pipeline_text
from tests.support import shared_data

STANDARD_F1_FLOOR = 0.955  # bench/results/extraction.json: 0.963; plain trafilatura 0.957


def test_built_pages_in_six_languages_are_cut_exactly() -> None:
    pages = built_pages()
    result = evaluate(pages, pipeline_text)
    assert result["exact_cuts"] == len(pages)


def test_the_standard_benchmark_stays_above_its_floor() -> None:
    shared_data("article-extraction-benchmark")
    result = evaluate(benchmark_pages(), pipeline_text)
    assert result["f1"] >= STANDARD_F1_FLOOR, result

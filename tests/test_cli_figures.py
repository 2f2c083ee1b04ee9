"""`newswatch figures` as the desk reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write_config
from worker.cli import cli

LONG_SENTENCE = (
    "Officials in Kyiv said on Wednesday that about 14,000 North Korean troops are now in "
    "Russia, most of them deployed to the Kursk region along the border, according to "
    "intelligence gathered over the past two weeks by several agencies."
)


def test_a_long_quote_is_marked_where_it_is_cut(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = str(write_config(tmp_path))
    article = tmp_path / "article.txt"
    article.write_text(f"Kyiv counts more troops\n\n{LONG_SENTENCE}\n", encoding="utf-8")
    ingested = CliRunner().invoke(cli, ["ingest", str(article), "--config", config])
    assert "new →" in ingested.output, ingested.output
    shown = CliRunner().invoke(cli, ["figures", "--config", config])
    assert shown.exit_code == 0, shown.output
    quote = next(line.strip() for line in shown.output.splitlines() if "Officials in" in line)
    assert quote.endswith("…”"), quote
    assert LONG_SENTENCE.startswith(quote[1:-2]), quote


def test_an_unknown_topic_is_named_as_an_error(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    shown = CliRunner().invoke(cli, ["figures", "nk-troops-rusia", "--config", config])
    assert shown.exit_code == 2
    assert "no topic named 'nk-troops-rusia' (known: nk-troops-russia)" in shown.output

"""`newswatch ingest` of a file it has read before: the same document, not an impostor."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import write_config
from tests.support import KYIV_TROOPS
from worker.cli import cli

TEXT = KYIV_TROOPS


def test_a_file_ingested_again_is_its_own_document(
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = str(write_config(tmp_path))
    article = tmp_path / "article.txt"
    article.write_text(TEXT, encoding="utf-8")
    first = CliRunner().invoke(cli, ["ingest", str(article), "--config", config])
    assert "new →" in first.output, first.output
    with caplog.at_level(logging.WARNING):
        again = CliRunner().invoke(cli, ["ingest", str(article), "--config", config])
        assert "unchanged →" in again.output, again.output
        article.write_text(TEXT.replace("15,000", "16,000"), encoding="utf-8")
        edited = CliRunner().invoke(cli, ["ingest", str(article), "--config", config])
        assert "revision →" in edited.output, edited.output
    assert "claims the identity" not in caplog.text

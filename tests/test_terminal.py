"""Article text printed by the commands cannot drive the operator's terminal."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, write_config
from worker.cli import cli
from worker.terminal import PrintableLogs, printable

ARTICLE = DATA / "hostile" / "article-terminal-escapes.txt"
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def test_control_characters_are_shown_escaped() -> None:
    assert printable("a\x1b[2Jb\rc\x9bd\u202ee\tf\ng") == "a\\x1b[2Jb\\x0dc\\x9bd\\u202ee\tf\ng"


def test_figures_prints_a_quote_s_escape_sequences_as_text(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = str(write_config(tmp_path))
    ingested = CliRunner().invoke(
        cli, ["ingest", str(ARTICLE), "--config", config, "--source", "Wire \x1b]0;retitled\x07"]
    )
    assert ingested.exit_code == 0, ingested.output
    assert "new →" in ingested.output
    shown = CliRunner().invoke(cli, ["figures", "--config", config])
    assert shown.exit_code == 0, shown.output
    assert "14,000" in shown.output
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[8mtersembunyi" in shown.output
    assert "Wire \\x1b]0;retitled\\x07" in shown.output
    for output in (ingested.output, shown.output):
        assert not any(c in output for c in RAW), repr(output)


def test_log_lines_carry_no_raw_control_characters() -> None:
    record = logging.LogRecord(
        "x",
        logging.WARNING,
        __file__,
        1,
        "article %s could not be fetched (%s)",
        ("https://a.example/\x1b[2J", "HTTP 500 \x9b"),
        None,
    )
    assert PrintableLogs().filter(record)
    assert record.getMessage() == (
        "article https://a.example/\\x1b[2J could not be fetched (HTTP 500 \\x9b)"
    )


def test_every_command_prints_through_the_one_escaping_echo() -> None:
    from tests.conftest import ROOT

    source = (ROOT / "worker" / "cli.py").read_text(encoding="utf-8")
    direct = [
        line.strip()
        for line in source.splitlines()
        if ("typer.echo(" in line or "typer.secho(" in line) and "printable(" not in line
    ]
    assert direct == []

"""`newswatch explain`: on topic or not, then every number and why it was read so."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.signals.test_seed import ENV, ROOT
from worker.cli import cli

PASSAGE = (
    "North Korea has sent about 10,000 troops to Russia, the Pentagon said.\n"
    "Ukraine said 3,000 North Korean soldiers had been killed or wounded by 28 March 2025.\n"
)


@pytest.fixture
def article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "article.txt"
    path.write_text(PASSAGE, encoding="utf-8")
    return path


def test_json_lines_give_relevance_then_one_object_per_number(article: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            str(article),
            "--topic",
            "nk-troops-russia",
            "--json",
            "--config",
            str(ROOT / "config"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0] == {"relevant": True, "language": "en"}
    numbers = {(n["figure"], n["value"], n["qualifier"]) for n in lines[1:]}
    assert ("nk_troops_in_russia", 10000, "about") in numbers
    troops = next(n for n in lines[1:] if n["value"] == 10000)
    assert "troops" in troops["reason"] and "north-korea" in troops["reason"]
    assert troops["sentence"].startswith("North Korea has sent")
    # 3,000 killed or wounded is not the troops figure, and the reason says why.
    killed = next(n for n in lines[1:] if n["value"] == 3000)
    assert killed["figure"] is None and "excluded by 'killed'" in killed["reason"]
    assert set(troops) == {"figure", "value", "upper", "qualifier", "sentence", "reason"}


def test_the_text_form_names_the_verdict_and_each_number(article: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["explain", str(article), "--topic", "nk-troops-russia", "--config", str(ROOT / "config")],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("on topic (language: en)")
    assert "10,000 → nk_troops_in_russia = 10000 (about)" in result.output


def test_an_unknown_topic_or_file_is_one_clear_line(article: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["explain", str(article), "--topic", "nope", "--config", str(ROOT / "config")]
    )
    assert result.exit_code == 2 and "no topic named 'nope'" in result.output
    result = runner.invoke(
        cli,
        [
            "explain",
            str(article) + ".missing",
            "--topic",
            "nk-troops-russia",
            "--config",
            str(ROOT / "config"),
        ],
    )
    assert result.exit_code == 1 and "no such file" in result.output

"""Logs: one JSON object per line with `log_format: json`, plain text by default."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

from tests.support import write_config
from worker import logs


def emit(log_format: logs.LogFormat) -> str:
    stream = io.StringIO()
    logger = logging.getLogger(f"newswatch.test.{log_format}")
    logger.handlers = [logging.StreamHandler(stream)]
    logger.propagate = False
    logs.use_format(logger, log_format)
    logger.warning("feed %s failed: %s", "https://a.example/feed", "HTTP 503 — «retry»")
    logger.warning("title with an escape \x1b[2J in it")
    return stream.getvalue()


def test_json_logs_are_one_object_per_line() -> None:
    lines = emit("json").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "newswatch.test.json"
    assert first["message"] == "feed https://a.example/feed failed: HTTP 503 — «retry»"
    assert {"time", "process"} <= set(first)
    assert "\x1b" not in second["message"] and "\\x1b" in second["message"]


def test_text_logs_are_the_default_format() -> None:
    text = emit("text")
    assert " WARNING newswatch.test.text: feed https://a.example/feed failed" in text
    assert not text.startswith("{")


def test_a_command_logs_json_when_the_config_says_so(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, service={"log_format": "json", "redis_url": "redis://127.0.0.1:1/0"}
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, sys; from worker.cli import _logging; from worker.config import load_config;"
            "_logging(True, load_config(sys.argv[1])); logging.getLogger('worker.x').info('ready')",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert json.loads(line)["message"] == "ready"


def test_every_command_that_reads_the_config_logs_in_its_format(tmp_path: Path) -> None:
    config = write_config(tmp_path, service={"log_format": "json"})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, sys; from pathlib import Path; from worker.cli import _config;"
            "_config(Path(sys.argv[1])); logging.getLogger('worker.x').warning('page \\x1b[2J')",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    [line] = result.stderr.splitlines()
    assert json.loads(line)["message"] == "page \\x1b[2J"

"""A process's runtime takes up edited config files, and only edited ones."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import write_config
from worker import pipeline, tasks
from worker.config import load_config


def test_a_runtime_handed_in_is_not_reloaded_until_a_file_changes(
        tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """What `poll --once` and the demo do: their own runtime, then tasks sent from it."""
    monkeypatch.setattr(tasks, "_runtime", None)
    monkeypatch.setattr(tasks, "CONFIG_CHECK_EVERY", 0.0)
    config_dir = write_config(tmp_path)
    handed = pipeline.Runtime(load_config(config_dir), redis_url)
    tasks.use(handed)
    with caplog.at_level(logging.INFO, logger="worker.tasks"):
        assert tasks.runtime() is handed
        assert "config reloaded" not in caplog.text
        feeds = config_dir / "feeds.yaml"
        feeds.write_text(feeds.read_text() + "# an edit\n")
        assert tasks.runtime() is not handed
        assert "config reloaded" in caplog.text

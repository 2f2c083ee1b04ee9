"""Fault scenarios can report their counts: with NEWSWATCH_FAULT_REPORT set to a file, each
appends a JSON line (bench/faults.py runs the suite so and tabulates them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def report(scenario: str, **counts: object) -> None:
    target = os.environ.get("NEWSWATCH_FAULT_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"scenario": scenario, **counts}) + "\n")


def start_poll_once(config_dir: Path, redis_url: str) -> subprocess.Popen[str]:
    """`newswatch poll --once` in the background, against the given config and Redis."""
    env = {**os.environ, "NEWSWATCH_CONFIG_DIR": str(config_dir),
           "NEWSWATCH_REDIS_URL": redis_url}
    return subprocess.Popen([sys.executable, "-m", "worker.cli", "poll", "--once"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

"""Helpers the tests share: paths, config folders, the fault-suite report, CLI runs.

Fixtures live in the conftest files; everything a test imports lives here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or a skip saying why the check cannot run."""
    path = SHARED / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets are not part of a clone)")
    return path


def write_config(folder: Path, *, feeds: list[dict[str, object]] | None = None,
                 channels: dict[str, object] | None = None,
                 service: dict[str, object] | None = None,
                 topic_overrides: dict[str, object] | None = None) -> Path:
    """A config folder with the example topic, seeds copied beside it, data under `folder`."""
    config = folder / "config"
    (config / "topics").mkdir(parents=True, exist_ok=True)
    seeds = folder / "seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(SEED, seeds / SEED.name)
    topic = yaml.safe_load((ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text())
    topic.update({"seeds": str(seeds), "corpus": str(folder / "corpus")})
    topic.update(topic_overrides or {})
    (config / "topics" / "nk-troops-russia.yaml").write_text(yaml.safe_dump(topic))
    settings = {"data_dir": str(folder / "data"), "allow_private_networks": True,
                "fetch_timeout": "10s", "tick_interval": "1s"}
    settings.update(service or {})
    (config / "newswatch.yaml").write_text(yaml.safe_dump(settings))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds or []}))
    routes = [{"topics": ["*"], "events": ["*"], "channels": sorted(channels)}] if channels else []
    (config / "alerts.yaml").write_text(
        yaml.safe_dump({"channels": channels or {}, "routes": routes}))
    return config


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

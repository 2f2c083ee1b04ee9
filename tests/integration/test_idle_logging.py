"""An idle service is quiet: a real poller and beat at INFO write nothing about ticks that
found nothing to do, and one line about a tick that did something."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, write_config
from worker import launcher
from worker.celery_app import app, configure
from worker.config import load_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration


def ticks_run(deadline: float) -> int:
    """How many ticks the poller has finished, from its own statistics."""
    while time.monotonic() < deadline:
        stats = app.control.inspect(timeout=2).stats() or {}
        for worker in stats.values():
            return int(worker.get("total", {}).get("newswatch.tick", 0))
    return 0


def test_idle_ticks_write_nothing_at_info(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    with LoopbackServer() as site:
        site.serve("/feed", (DATA / "feeds" / "rss2.xml").read_bytes(), "application/rss+xml")
        config = load_config(
            write_config(
                tmp_path,
                feeds=[
                    {"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], "interval": "1h"}
                ],
                service={"tick_interval": "1s"},
            )
        )
        configure(config, redis_url)
        env = services.environment(config)
        logs = {name: tmp_path / f"{name}.log" for name in ("poller", "beat")}
        commands = {
            "poller": launcher.worker_command("poller", "INFO"),
            "beat": launcher.beat_command("INFO", tmp_path / "beat-schedule"),
        }
        try:
            for name, command in commands.items():
                with logs[name].open("w") as output:
                    services.children.append(
                        subprocess.Popen(
                            command,
                            env=env,
                            stdout=output,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            deadline = time.monotonic() + 120
            while ticks_run(deadline) < 6 and time.monotonic() < deadline:
                time.sleep(1)
            assert ticks_run(deadline) >= 6, "the poller never ran six ticks"
            assert any(path == "/feed" for _, path, _ in site.requests)
        finally:
            launcher.stop_children(services)

    # Log lines only (the start-up banner lists the tasks, the tick among them), in
    # newswatch's format or Celery's.
    level = re.compile(r" (INFO|WARNING|ERROR) |(INFO|WARNING|ERROR)/")
    lines = [
        line
        for path in logs.values()
        for line in path.read_text().splitlines()
        if level.search(line)
    ]
    assert len(lines) > 2, "the logs hold no log lines at all"
    about_ticks = [line for line in lines if "newswatch.tick" in line or "newswatch-tick" in line]
    assert about_ticks == []
    # The first tick found the new feed due and says so; the idle ones say nothing.
    did_something = [line for line in lines if "tick: 1 feed(s) due" in line]
    assert len(did_something) == 1, lines
    assert not [line for line in lines if "tick: 0 feed(s) due" in line]

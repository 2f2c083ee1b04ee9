"""The two workers `newswatch run` starts (`python -m worker.node`, no Celery command line):
each answers under its node name, with its pool and size, on its queue."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.articles.test_drafts import TOPIC, left_behind
from tests.conftest import write_config
from worker import launcher
from worker.celery_app import IO_QUEUE, QUEUE, app, configure
from worker.config import load_config

pytestmark = pytest.mark.integration


def inspect_until(nodes: list[str], deadline: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each node's stats and active queues, once every node has answered."""
    while time.monotonic() < deadline:
        inspect = app.control.inspect(destination=nodes, timeout=2)
        stats, queues = inspect.stats() or {}, inspect.active_queues() or {}
        if set(nodes) <= set(stats) and set(nodes) <= set(queues):
            return stats, queues
        time.sleep(0.5)
    raise AssertionError(f"{nodes} did not all answer")


def test_each_worker_runs_its_pool_on_its_queue(tmp_path: Path, redis_url: str) -> None:
    config = load_config(write_config(tmp_path))
    configure(config, redis_url)
    # Left by a worker stopped between writing a document's draft and placing it.
    left = left_behind(config.corpus_dir(config.topics[TOPIC]), hours=25)
    services = launcher.Services(redis_url)
    host = socket.gethostname()
    try:
        started = [
            launcher.start_worker(services, config, concurrency=3, quiet=True),
            launcher.start_poller(services, config, quiet=True),
        ]
        stats, queues = inspect_until(
            [f"newswatch@{host}", f"poller@{host}"], time.monotonic() + 120
        )
    finally:
        launcher.stop_children(services)
    worker, poller = stats[f"newswatch@{host}"], stats[f"poller@{host}"]
    assert worker["pool"]["implementation"].endswith("prefork:TaskPool")
    assert len(worker["pool"]["processes"]) == 3
    assert [q["name"] for q in queues[f"newswatch@{host}"]] == [QUEUE]
    assert poller["pool"]["implementation"].endswith("thread:TaskPool")
    assert poller["pool"]["max-concurrency"] == 16
    assert [q["name"] for q in queues[f"poller@{host}"]] == [IO_QUEUE]
    assert [process.returncode for process in started] == [0, 0]  # warm shutdowns
    assert not left.exists()  # swept as the article worker started

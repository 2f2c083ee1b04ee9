"""Flower, started against the same Redis as the workers, shows newswatch's tasks by name
and state, and only behind its basic auth."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_slice import ARTICLE, feed, run_cli
from tests.support import write_config
from worker.demo.servers import LoopbackServer
from worker.store.embedded import free_port

pytestmark = pytest.mark.integration


def test_tasks_appear_in_flower_with_names_and_states(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    with LoopbackServer() as site:
        site.serve("/feed", feed(site.base), "application/rss+xml")
        site.serve("/world/seoul-12000", ARTICLE)
        config = write_config(tmp_path, feeds=[{"url": f"{site.base}/feed",
                                                "topics": ["nk-troops-russia"]}])
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url,
               "NEWSWATCH_CONFIG_DIR": str(config)}
        flower = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker.celery_app", "flower",
             f"--port={port}", "--address=127.0.0.1", "--basic-auth=desk:s3cret"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api = f"http://127.0.0.1:{port}/api/tasks"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.get(api, timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
            assert httpx.get(api, timeout=5).status_code == 401
            assert run_cli("poll", "--once", env=env).returncode == 0
            names: dict[str, str] = {}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "newswatch.process_entry" not in names:
                tasks = httpx.get(api, auth=("desk", "s3cret"), timeout=5).json()
                names = {task["name"]: task["state"] for task in tasks.values()}
                time.sleep(0.5)
        finally:
            flower.terminate()
            flower.wait(10)
    assert names.get("newswatch.poll_feed") == "SUCCESS"
    assert names.get("newswatch.process_entry") == "SUCCESS"

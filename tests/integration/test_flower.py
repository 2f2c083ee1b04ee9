"""Flower, started against the same Redis as the workers, shows newswatch's tasks by name
and state, and only behind its basic auth."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.integration.test_slice import ARTICLE, feed, run_cli
from tests.support import ROOT, write_config
from worker.demo.servers import LoopbackServer
from worker.store.embedded import free_port

pytestmark = pytest.mark.integration


def test_tasks_appear_in_flower_with_names_and_states(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    with LoopbackServer() as site:
        site.serve("/feed", feed(site.base), "application/rss+xml")
        site.serve("/world/seoul-12000", ARTICLE)
        config = write_config(
            tmp_path, feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}]
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        flower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker.celery_app",
                "flower",
                f"--port={port}",
                "--address=127.0.0.1",
                "--basic-auth=desk:s3cret",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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
            while time.monotonic() < deadline and "newswatch.process_entries" not in names:
                tasks = httpx.get(api, auth=("desk", "s3cret"), timeout=5).json()
                names = {task["name"]: task["state"] for task in tasks.values()}
                time.sleep(0.5)
        finally:
            flower.terminate()
            flower.wait(10)
    assert names.get("newswatch.poll_feed") == "SUCCESS"
    assert names.get("newswatch.process_entries") == "SUCCESS"


def _readme_flower_command() -> str:
    """The shell command under README.md's `## Flower` heading, continuation lines joined."""
    section = (ROOT / "README.md").read_text().split("\n## Flower\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.replace("\\\n", " ")


def test_the_readme_flower_command_starts_on_the_shipped_config_without_alert_secrets(
    redis_url: str,
) -> None:
    """Run as written from the project folder, with none of the alert or SMTP variables
    set: Flower only needs Redis, so it must start and answer behind its basic auth."""
    command = _readme_flower_command()
    user, password = re.search(r"--basic-auth=(\S+?):(\S+)", command).groups()
    port = free_port()
    command = (
        command.replace("redis://127.0.0.1:6379/0", redis_url)
        .replace("--port=5555", f"--port={port}")
        .replace(".venv/bin/", f"{Path(sys.executable).parent}/")
    )
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ALERT_", "SMTP_", "NEWSWATCH_"))
    }
    flower = subprocess.Popen(
        ["sh", "-c", command],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/workers"
    try:
        deadline = time.monotonic() + 60
        while flower.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert flower.poll() is None, f"Flower exited: {flower.stderr.read()[-800:]}"
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, auth=(user, password), timeout=10).status_code == 200
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(flower.pid, signal.SIGTERM)
        flower.communicate(timeout=10)  # reaps it and closes the stderr pipe

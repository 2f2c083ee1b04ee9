"""A fresh clone's config/ with no alert secrets in the environment: each command that only
reads runs; each that would send an alert refuses in one line naming what to set."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import ROOT, SEED
from worker.store.embedded import free_port

SHIPPED = ROOT / "config"
REFUSAL = (
    f"{SHIPPED / 'alerts.yaml'}:2: channels.desk-webhook: environment variables "
    "ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET are not set "
    "(needed to send alerts; .env.example lists them)"
)


def without_secrets(folder: Path, redis_url: str) -> dict[str, str]:
    """The environment of a shell that never exported the alert or SMTP variables; Redis
    and the data folder are the test's own, so nothing is written into the clone."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ALERT_", "SMTP_", "NEWSWATCH_"))
    }
    return {
        **env,
        "NEWSWATCH_CONFIG_DIR": str(SHIPPED),
        "NEWSWATCH_REDIS_URL": redis_url,
        "NEWSWATCH_DATA_DIR": str(folder / "data"),
    }


def named(command: list[str]) -> str:
    return " ".join(command).replace(str(SEED), "SEED")


def newswatch(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["figures"], "North Korean troops in Russia: no observation yet"),
        (["figures", "nk-troops-russia"], "nk-troops-russia: North Korean troops in Russia"),
        (["alerts"], ""),
        (["feeds", "list"], "never polled"),
        (["reindex"], "nk-troops-russia: reindexed; next document number 001"),
        (["failures"], "0 failed entries"),
        (["explain", str(SEED), "--topic", "nk-troops-russia"], "on topic (language: id)"),
        (
            ["explain", str(SEED), "--topic", "nk-troops-russia", "--json"],
            '{"relevant": true, "language": "id"}',
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_a_command_that_only_reads_needs_no_alert_secrets(
    tmp_path: Path, redis_url: str, command: list[str], says: str
) -> None:
    result = newswatch(*command, env=without_secrets(tmp_path, redis_url), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert says in result.stdout


def test_check_config_still_names_each_unset_variable(tmp_path: Path, redis_url: str) -> None:
    result = newswatch("check-config", env=without_secrets(tmp_path, redis_url), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{SHIPPED / 'alerts.yaml'}:2: channels.desk-webhook.url: environment variable "
        "ALERT_WEBHOOK_URL is not set",
        f"{SHIPPED / 'alerts.yaml'}:2: channels.desk-webhook.secret: environment variable "
        "ALERT_WEBHOOK_SECRET is not set",
        f"2 problem(s) in {SHIPPED}",
    ]


def test_the_web_view_needs_no_alert_secrets(tmp_path: Path, redis_url: str) -> None:
    env = {
        **without_secrets(tmp_path, redis_url),
        "NEWSWATCH_WEB_USER": "desk",
        "NEWSWATCH_WEB_PASSWORD": "not-a-secret",
    }
    port = free_port()
    log = tmp_path / "web.log"
    with log.open("w") as stream:
        web = subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "web", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        answer: httpx.Response | None = None
        while answer is None:
            assert web.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/api/topics", auth=("desk", "not-a-secret"), timeout=5
                )
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer.status_code == 200, answer.text
        assert "nk-troops-russia" in answer.text
    finally:
        web.terminate()
        web.wait(timeout=60)


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["poll", "--once"],
        ["test-alert"],
        ["test-alert", "desk-webhook"],
        ["ingest", str(SEED)],
        ["failures", "--retry"],
    ],
    ids=named,
)
def test_a_command_that_sends_refuses_in_one_line(
    tmp_path: Path, redis_url: str, command: list[str]
) -> None:
    result = newswatch(*command, env=without_secrets(tmp_path, redis_url), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [REFUSAL]
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # refused before anything was started or written


def test_a_channel_whose_variables_are_set_can_be_tested_alone(
    tmp_path: Path, redis_url: str
) -> None:
    """The e-mail channel's address has a default: testing it needs no webhook secret."""
    env = {**without_secrets(tmp_path, redis_url), "SMTP_PORT": str(free_port())}
    result = newswatch("test-alert", "desk-email", env=env, cwd=tmp_path)
    assert result.returncode == 1  # nothing listens on the port: tried, and failed
    assert result.stdout.startswith("desk-email: failed — SMTP localhost:"), result.stdout
    assert "ALERT_WEBHOOK" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "worker",
    [
        ["worker.node", "worker", "--concurrency", "1"],
        ["worker.node", "poller"],
        ["celery", "-A", "worker.celery_app", "worker", "-Q", "newswatch", "--concurrency", "1"],
    ],
    ids=named,
)
def test_a_worker_started_directly_refuses_in_one_line(
    tmp_path: Path, redis_url: str, worker: list[str]
) -> None:
    """As docker-compose starts them (`python -m worker.node`), or through Celery's own
    command line: refused before taking a task, where they used to start and then fail
    every task they took."""
    result = subprocess.run(
        [sys.executable, "-m", *worker],
        cwd=tmp_path,
        env=without_secrets(tmp_path, redis_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    said = [
        line.split(" worker.tasks: ", 1)[1]
        for line in result.stderr.splitlines()
        if "CRITICAL" in line
    ]
    assert said[0] == REFUSAL, result.stderr
    assert said[1].endswith("not started: its config cannot be run"), result.stderr
    assert "Traceback" not in result.stderr

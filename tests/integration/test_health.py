"""`newswatch health`, the container healthcheck: it passes only while this node's Redis
and the named workers answer, and says in one line what did not."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, write_config
from tests.integration.test_slice import run_cli
from worker import launcher
from worker.config import load_config
from worker.store.embedded import free_port

pytestmark = pytest.mark.integration


def shipped_config_env(redis_url: str) -> dict[str, str]:
    """The shipped config folder with no alert or SMTP secrets, as in a fresh container."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALERT_", "SMTP_"))}
    return {**env, "NEWSWATCH_CONFIG_DIR": str(ROOT / "config"), "NEWSWATCH_REDIS_URL": redis_url}


def test_healthy_while_redis_and_the_worker_answer_then_not(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    launcher.start_poller(services, load_config(write_config(tmp_path)), quiet=True)
    env = shipped_config_env(redis_url)
    try:
        deadline = time.monotonic() + 90
        while (result := run_cli("health", "--worker", "poller", env=env)).returncode != 0:
            assert time.monotonic() < deadline, result.stdout + result.stderr
            time.sleep(1)
        assert f"poller@{socket.gethostname()}: ok" in result.stdout
        assert f"redis {redis_url}: ok" in result.stdout
        launcher.stop_children(services)
        stopped = run_cli("health", "--worker", "poller", "--timeout", "2", env=env)
    finally:
        launcher.stop_children(services)
    assert stopped.returncode == 1
    assert (
        f"poller@{socket.gethostname()}: FAILED (no answer to a ping within 2 s)" in stopped.stderr
    )


def test_unhealthy_in_one_line_when_redis_does_not_answer() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = run_cli("health", "--worker", "poller", "--timeout", "2", env=shipped_config_env(url))
    assert result.returncode == 1
    assert result.stderr.startswith(f"redis {url}: FAILED (ConnectionError")
    assert len(result.stderr.splitlines()) == 1, result.stderr  # the worker is not asked


def test_a_redis_password_is_not_printed() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    result = run_cli("health", "--timeout", "2", env=shipped_config_env(url))
    assert result.returncode == 1
    assert "hunter2" not in result.stdout + result.stderr
    assert "redis://:***@127.0.0.1:" in result.stderr


def test_the_config_option_names_the_node_and_its_redis(tmp_path: Path, redis_url: str) -> None:
    """`--config DIR`, as for every other command: DIR's redis_url is checked, not the one
    of the folder NEWSWATCH_CONFIG_DIR names (the shipped one, which has none)."""
    config = write_config(tmp_path, service={"redis_url": redis_url})
    env = {k: v for k, v in shipped_config_env(redis_url).items() if k != "NEWSWATCH_REDIS_URL"}
    unnamed = run_cli("health", "--timeout", "2", env=env)
    assert unnamed.returncode == 2
    assert "redis_url: no Redis URL is configured" in unnamed.stderr
    named = run_cli("health", "--timeout", "2", "--config", str(config), env=env)
    assert named.returncode == 0, named.stderr
    assert named.stdout.startswith(f"redis {redis_url}: ok (PONG in ")

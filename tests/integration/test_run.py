"""`newswatch run` as systemd or a terminal runs it: one owner of its embedded Redis (a
second `run` on the data folder refuses), a child that dies is restarted with a line
saying so, and SIGTERM stops every child and the Redis, leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_redis_outage import wait_for
from tests.support import write_config

pytestmark = pytest.mark.integration


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid`, with its command line."""
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = subprocess.run(
            ["pgrep", "-P", str(parent)], capture_output=True, text=True
        ).stdout.split()
        for child in map(int, children):
            try:
                found[child] = (
                    Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
            except OSError:
                continue
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSWATCH_REDIS_URL"}
    env["NEWSWATCH_CONFIG_DIR"] = str(config)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def roles(pid: int) -> dict[str, int]:
    """The run's direct children by role."""
    found = {}
    for child, command in descendants(pid).items():
        if Path(f"/proc/{child}/stat").exists() and _parent(child) == pid:
            role = (
                "redis"
                if "redis-server" in command
                else "poller"
                if "worker.node poller" in command
                else "beat"
                if " beat " in command
                else "worker"
            )
            found[role] = child
    return found


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


@pytest.mark.timeout(400)
def test_run_owns_its_redis_restarts_a_dead_child_and_stops_everything_on_sigterm(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path, service={"task_time_limit": "20s"})
    log = tmp_path / "run.log"
    run = start_run(config, log)
    try:
        assert wait_for(lambda: len(roles(run.pid)) == 4, 120), (roles(run.pid), log.read_text())
        first = roles(run.pid)

        second = subprocess.run(
            [sys.executable, "-m", "worker.cli", "run"],
            env={
                **{k: v for k, v in os.environ.items() if k != "NEWSWATCH_REDIS_URL"},
                "NEWSWATCH_CONFIG_DIR": str(config),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode != 0
        assert f"another newswatch process (pid {run.pid})" in second.stderr, second.stderr

        os.kill(first["poller"], signal.SIGKILL)
        assert wait_for(lambda: roles(run.pid).get("poller") not in (None, first["poller"]), 60), (
            log.read_text()
        )
        assert f"the poller (pid {first['poller']}) exited" in log.read_text()
        assert run.poll() is None

        everything = descendants(run.pid)
        run.send_signal(signal.SIGTERM)
        assert run.wait(120) == 0
    finally:
        if run.poll() is None:
            run.kill()
    left = [command for pid, command in everything.items() if alive(pid)]
    assert left == [], left
    assert "warm shutdown" in log.read_text()

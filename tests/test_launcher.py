"""The launcher's supervision with stand-in children: one that keeps dying is given up on
with a line saying why, and a second signal stops a child that ignores the first."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from typer.testing import CliRunner

from tests.support import write_config
from worker import launcher, node
from worker.celery_app import WORKER_KINDS
from worker.cli import cli
from worker.config import load_config


def test_a_child_that_keeps_dying_stops_everything_with_a_reason(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    services = launcher.Services("redis://127.0.0.1:1/0")
    launcher._spawn(
        services, config, "poller", [sys.executable, "-c", "raise SystemExit(3)"], quiet=True
    )
    said: list[str] = []
    code = launcher.supervise(services, config, echo=said.append, every=0.05)
    assert code == 1
    assert said[0].startswith("newswatch: the poller (pid ") and "code 3; restarting" in said[0]
    assert "the poller exited 6 times within 300 s (last exit code 3)" in said[-1]
    assert services.children == []


def test_a_second_signal_stops_at_once(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, service={"task_time_limit": "600s"}))
    services = launcher.Services("redis://127.0.0.1:1/0")
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(600)"
    )
    child = launcher._spawn(
        services, config, "worker", [sys.executable, "-c", stubborn], quiet=True
    )
    said: list[str] = []

    def signal_twice() -> None:
        time.sleep(1.0)
        signal.raise_signal(signal.SIGTERM)  # warm: the child ignores it
        time.sleep(1.0)
        signal.raise_signal(signal.SIGTERM)  # cold

    threading.Thread(target=signal_twice).start()
    code = launcher.supervise(services, config, echo=said.append, every=0.05)
    assert code == 0 and child.poll() is not None
    assert any("warm shutdown" in line for line in said)


def test_the_help_gives_the_pool_sizes_a_worker_takes_unless_told() -> None:
    """`newswatch run --concurrency` left unset passes nothing, and each worker sizes its
    pool as its kind says (WORKER_KINDS): what both helps say must be those sizes."""
    worker, poller = (WORKER_KINDS[kind].concurrency for kind in ("worker", "poller"))
    assert "--concurrency" not in launcher.worker_command("worker")
    run_help = " ".join(CliRunner().invoke(cli, ["run", "--help"]).output.split())
    assert f"unset, the worker's own size ({worker} processes)" in run_help
    assert f"The poller keeps its {poller} threads" in run_help
    node_help = " ".join(node.parser().format_help().split())
    assert f"default: {worker} processes, or {poller} threads" in node_help

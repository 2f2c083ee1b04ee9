"""The launcher's supervision with stand-in children: one that keeps dying is given up on
with a line saying why, and a second signal stops a child that ignores the first."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

from tests.support import write_config
from worker import launcher
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

"""Task events cost a publish each: a real worker sends them only while a monitor (an
event receiver, as Flower runs) listens, and stops when it goes away."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import write_config
from worker import launcher
from worker.celery_app import app, configure
from worker.config import load_config

pytestmark = pytest.mark.integration


def wait_for(what: str, check: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


class Monitor:
    """A real event receiver, as Flower's: collects the task events it is sent."""

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []
        self.ready = threading.Event()
        self._receiver: Any = None
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def _listen(self) -> None:
        with app.connection_for_read() as connection:
            self._receiver = app.events.Receiver(connection, handlers={"*": self.events.append})
            self._receiver.on_consume_ready = lambda *_, **__: self.ready.set()
            self._receiver.capture(limit=None, timeout=None, wakeup=False)

    def task_names(self) -> set[object]:
        return {e.get("name") for e in list(self.events) if e.get("type") == "task-received"}

    def __enter__(self) -> Monitor:
        self._thread.start()
        assert self.ready.wait(60), "the monitor never subscribed"
        return self

    def __exit__(self, *_: object) -> None:
        self._receiver.should_stop = True
        self._thread.join(30)


def publishes(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_publish", {}).get("calls", 0))


def test_task_events_flow_only_while_a_monitor_listens(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    config = load_config(write_config(tmp_path, service={"tick_interval": "1h"}))
    configure(config, redis_url)
    client = redis.Redis.from_url(redis_url)
    log = tmp_path / "poller.log"
    command = launcher.worker_command("poller", "INFO")
    try:
        with log.open("w") as output:
            services.children.append(
                subprocess.Popen(
                    command,
                    env=services.environment(config),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        wait_for("the worker", lambda: bool(app.control.ping(timeout=1)))

        def ticks_finished() -> int:
            stats = app.control.inspect(timeout=2).stats() or {}
            return sum(int(w.get("total", {}).get("newswatch.tick", 0)) for w in stats.values())

        # No monitor: twenty tasks run, and the publishes are the worker's heartbeats only.
        before, started = publishes(client), time.monotonic()
        for _ in range(20):
            app.send_task("newswatch.tick")
        wait_for("twenty ticks", lambda: ticks_finished() >= 20)
        heartbeats = (time.monotonic() - started) / 2 + 3  # one each 2 s, and a margin
        assert publishes(client) - before < heartbeats, "task events sent with no one listening"

        with Monitor() as monitor:
            wait_for("task events on", lambda: "task events on" in log.read_text())
            app.send_task("newswatch.tick")
            wait_for(
                "the monitor to see the tick", lambda: "newswatch.tick" in monitor.task_names()
            )
        wait_for("task events off", lambda: "task events off" in log.read_text())
    finally:
        launcher.stop_children(services)

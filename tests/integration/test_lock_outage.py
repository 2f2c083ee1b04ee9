"""Redis stopped while a worker holds its topic's lock, and started again with its
append-only file (which keeps the lock): the topic's next entry is processed once Redis is
back, not after the lock's lease (the task time limit) has run out."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.integration.test_redis_outage import (
    OUTAGE_SECONDS,
    PAGE,
    STORIES,
    documents,
    feed,
    wait_for,
)
from tests.support import report, write_config
from worker import launcher
from worker.articles.corpus import Corpus
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.store import keys as keyspace
from worker.store.embedded import free_port, start_redis

pytestmark = pytest.mark.integration
TOPIC = "nk-troops-russia"


def pool_children(services: launcher.Services) -> list[int]:
    """The processes the launched workers forked (the article worker's pool)."""
    parents = {child.pid for child in services.children}
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) in parents:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """The processes stopped (SIGSTOP) for the block, then let go on."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.mark.timeout(600 + OUTAGE_SECONDS)
def test_a_topic_lock_held_as_redis_restarts_does_not_hold_up_the_topic(tmp_path: Path) -> None:
    port = free_port()
    redis_dir = tmp_path / "redis"
    server = start_redis(redis_dir, port=port, append_only=True)
    services = launcher.Services(server.url)
    lock = keyspace.topic_lock(TOPIC)
    with LoopbackServer() as site:
        for n in (1, 2):
            site.serve(f"/a/{n}", PAGE.format(n=n, story=STORIES[n - 1]))
        site.serve("/feed", feed(site.base, 1), "application/rss+xml")
        config = load_config(
            write_config(
                tmp_path,
                feeds=[{"url": f"{site.base}/feed", "topics": [TOPIC]}],
                service={
                    "poll_interval": "1s",
                    "min_poll_interval": "1s",
                    "max_poll_interval": "2s",
                    "tick_interval": "1s",
                    # The lock's lease: far past the deadline below.
                    "task_time_limit": "1h",
                },
            )
        )
        try:
            launcher.start_workers(services, config)
            launcher.start_beat(services, config, quiet=True)
            watch = redis.Redis.from_url(server.url)
            held = False
            deadline = time.monotonic() + 120
            while not held and time.monotonic() < deadline:
                if not watch.exists(lock):
                    continue
                # The first entry's task holds the lock (loading the topic under it):
                # held still, frozen, while Redis stops and saves it.
                with frozen(pool_children(services)):
                    held = bool(watch.exists(lock))
                    if held:
                        server.stop()
            assert held, "a task took the topic's lock"
            site.serve("/feed", feed(site.base, 2), "application/rss+xml")
            time.sleep(OUTAGE_SECONDS)
            server = start_redis(redis_dir, port=port, append_only=True)
            # The second entry is polled and processed once Redis is back (the first's
            # task was lost with Redis, and is handed out again after its lease).
            assert wait_for(lambda: "2" in written(tmp_path), 300), (
                f"the second entry not written ({written(tmp_path)}): the topic waited "
                "for its lock's lease"
            )
        finally:
            launcher.stop_children(services, timeout=10)
            server.stop()
    report(
        f"Redis stopped {OUTAGE_SECONDS} s under a topic lock's holder, AOF",
        documents=len(documents(tmp_path)),
        entries_written=written(tmp_path),
    )
    assert len(documents(tmp_path)) == len(written(tmp_path))  # none written twice


def written(folder: Path) -> list[str]:
    """The numbers of the entries the manifest has a document of (`/a/N`)."""
    return [r.url.rsplit("/", 1)[1] for r in Corpus(folder / "corpus").records() if r.file]

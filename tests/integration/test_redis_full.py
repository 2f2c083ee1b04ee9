"""Redis full (`maxmemory` with `noeviction`) under a running poller: it keeps running,
says why it cannot work, and does the work once memory is freed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis

from tests.integration.test_host_slots import feed
from tests.integration.test_redis_outage import documents, wait_for
from tests.support import distinct_page, report, write_config
from worker import launcher, pipeline, tasks
from worker.config import load_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration


def fill(client: redis.Redis) -> None:
    """Write until Redis refuses: it is then at its memory limit."""
    n = client.dbsize()
    try:
        while True:
            client.set(f"ballast:{n}", b"x" * 1000)
            n += 1
    except redis.exceptions.OutOfMemoryError:
        pass


@pytest.mark.timeout(300)
def test_workers_survive_a_full_redis_and_recover_when_memory_is_freed(
    tmp_path: Path, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    services = launcher.Services(redis_url)
    log = tmp_path / "poller.log"
    with LoopbackServer() as site:
        site.serve("/a/1", distinct_page(1))
        site.serve("/feed", feed(site.base, [1]), "application/rss+xml")
        config = load_config(
            write_config(
                tmp_path, feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}]
            )
        )
        rt = pipeline.Runtime(config, redis_url)
        tasks.use(rt)
        pipeline.sync_feeds(rt)
        tasks.tick.delay()  # work waiting in the queue when memory runs out
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", used + 4_000_000)
        client.config_set("maxmemory-policy", "noeviction")
        try:
            fill(client)
            launcher.start_beat(services, config, quiet=True)
            with log.open("wb") as out:
                # Its log is what an operator reads to learn the cause.
                poller = subprocess.Popen(
                    launcher.worker_command("poller", "INFO"),
                    env=services.environment(config),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            services.children.append(poller)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and poller.poll() is None:
                fill(client)  # kept full: other writers would take what is freed
                time.sleep(0.5)
            assert poller.poll() is None, "the poller exited on a full Redis"

            for key in client.scan_iter("ballast:*", count=1000):
                client.delete(key)
            launcher.start_worker(services, config, quiet=True)
            assert wait_for(lambda: len(documents(tmp_path)) == 1, 120), "work after freeing"
            assert poller.poll() is None
        finally:
            client.config_set("maxmemory", 0)
            launcher.stop_children(services, timeout=10)
    said = log.read_text()
    report(
        "Redis full (maxmemory, noeviction) 20 s, then freed",
        entries=1,
        documents=len(documents(tmp_path)),
        poller_kept_running=True,
    )
    assert "maxmemory" in said or "OutOfMemory" in said

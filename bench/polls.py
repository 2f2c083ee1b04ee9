"""Unchanged feeds polled through the real poller, beside a plain async loop, same farm.

A farm process serves N feeds on 50 loopback hosts, each answering 304 to its ETag and
counting the connections it accepts. Real workers (the poller's thread pool and the
prefork worker, as `newswatch run` starts them) poll every feed once to learn the ETags;
then each round sends a `newswatch.poll_feed` task per feed and waits for all of them.
The baseline, against the same farm in the same run: an in-process `httpx.AsyncClient`
loop making the same conditional GETs (64 at a time). Measured: feeds per second of
each and their ratio, new connections per repoll, and Redis commands per poll as Redis
counted them (INFO commandstats: Celery's broker traffic and task events included).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import redis
import yaml

from bench.common import FarmHandler, median, start_farm, write_result
from worker.store.embedded import start_redis

HOSTS = 50
EMPTY_FEED = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'


def farm_handler(connections: Any) -> type[FarmHandler]:
    class Handler(FarmHandler):
        def setup(self) -> None:
            with connections.get_lock():
                connections.value += 1
            super().setup()

        def do_GET(self) -> None:
            etag = f'"{self.path}"'
            if self.headers.get("If-None-Match") == etag:
                self.send(304, b"", {"ETag": etag})
            else:
                self.send(200, EMPTY_FEED, {"ETag": etag, "Content-Type": "application/xml"})

    return Handler


def _commands(client: redis.Redis) -> Counter[str]:
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


async def _async_loop(urls: list[str], rounds: int) -> list[float]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits) as client:
        semaphore = asyncio.Semaphore(64)

        async def one(url: str) -> None:
            async with semaphore:
                response = await client.get(
                    url, headers={"If-None-Match": f'"{url[url.index("/feed") :]}"'}
                )
                assert response.status_code == 304

        times = []
        for _ in range(rounds + 1):  # the first round opens the connections
            started = time.perf_counter()
            await asyncio.gather(*(one(url) for url in urls))
            times.append(time.perf_counter() - started)
        return times[1:]


def main(count: int = 500, rounds: int = 3) -> dict[str, Any]:
    connections = multiprocessing.Value("i", 0)
    port, farm = start_farm(farm_handler, connections)
    folder = Path(tempfile.mkdtemp(prefix="newswatch-polls-"))
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    (config / "topics" / "t.yaml").write_text("id: t\ntitle: T\n")
    (config / "newswatch.yaml").write_text(
        yaml.safe_dump(
            {
                "data_dir": str(folder / "data"),
                "allow_private_networks": True,
                "per_host_concurrency": 16,
            }
        )
    )
    urls = [f"http://127.0.0.{2 + i % HOSTS}:{port}/feed/{i}" for i in range(count)]
    (config / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"url": url, "topics": ["t"]} for url in urls]})
    )
    server = start_redis(folder / "redis", append_only=False)
    os.environ["NEWSWATCH_CONFIG_DIR"] = str(config)
    os.environ["NEWSWATCH_REDIS_URL"] = server.url
    from worker import launcher, pipeline, tasks
    from worker.config import load_config

    settings = load_config(config)
    services = launcher.Services(server.url)
    launcher.start_workers(services, settings, quiet=True)
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        assert launcher.wait_for_worker(60), "workers did not start"
        rt = tasks.runtime()
        pipeline.sync_feeds(rt)
        keys = [pipeline.feed_id(url) for url in urls]

        def poll_round() -> float:
            run = uuid.uuid4().hex[:12]
            started = time.perf_counter()
            for key in keys:
                tasks.send(tasks.poll_feed, key, run=run)
            while rt.store.run_pending(run) > 0:
                time.sleep(0.05)
            return time.perf_counter() - started

        poll_round()  # learns every ETag
        ours, commands, opened = [], Counter[str](), 0
        for _ in range(rounds):
            before, connected = _commands(client), connections.value
            ours.append(poll_round())
            commands += _commands(client) - before
            opened += connections.value - connected
        statuses = rt.store.stats()
        commands["info"] -= rounds  # our own INFO after each round
        connected = connections.value
        theirs = asyncio.run(_async_loop(urls, rounds))
        baseline_opened = connections.value - connected
    finally:
        launcher.stop_children(services, timeout=30)
        server.stop()
        farm.kill()
    polls = count * rounds
    figures = {
        "feeds": count,
        "rounds": rounds,
        "poller_feeds_per_second": round(count / median(ours), 1),
        "async_loop_feeds_per_second": round(count / median(theirs), 1),
        "new_connections_per_repoll": round(opened / polls, 4),
        "async_loop_new_connections": baseline_opened,
        "redis_commands_per_poll": round(sum(commands.values()) / polls, 1),
        "redis_commands_per_poll_by_name": {
            name: round(n / polls, 2) for name, n in commands.most_common() if n > 0
        },
        "poll_statuses": {k: v for k, v in statuses.items() if k.startswith("polls_")},
    }
    figures["ratio"] = round(
        figures["poller_feeds_per_second"] / figures["async_loop_feeds_per_second"], 3
    )
    print(
        f"unchanged polls: poller {figures['poller_feeds_per_second']} feeds/s, async loop "
        f"{figures['async_loop_feeds_per_second']} feeds/s ({figures['ratio']}×); "
        f"{figures['new_connections_per_repoll']} new connections per repoll; "
        f"{figures['redis_commands_per_poll']} Redis commands per poll"
    )
    print("  commands per poll:", figures["redis_commands_per_poll_by_name"])
    write_result("polls", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

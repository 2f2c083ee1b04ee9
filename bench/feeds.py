"""Feed polling throughput on a loopback farm of feeds, through the real feeds stage
(`pipeline.poll_feed`: address check, conditional GET, body hash, parse, schedule, state
saved in Redis), with a pool of threads as one worker process would run them.

Two cases: every feed answers 304 (validators match), and every feed changed (bodies
drawn from ../shared/data/real-feeds, or the bundled fixtures when that is absent).
The farm runs in its own process so its CPU is not counted; hosts are 127.0.0.2-51.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, SHARED_DATA, FarmHandler, median, start_farm, write_result
from worker import pipeline
from worker.config import load_config
from worker.store.embedded import start_redis

HOSTS = 50


def farm_bodies() -> list[bytes]:
    folder = SHARED_DATA / "real-feeds" / "benchmark_data"
    if folder.exists():
        return [p.read_bytes() for p in sorted(folder.iterdir())]
    return [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / "feeds").glob("rss*.xml"))]


def farm_handler() -> type[FarmHandler]:
    bodies = farm_bodies()
    version = {"n": 0}

    class Handler(FarmHandler):
        def do_GET(self) -> None:
            if self.path == "/bump":
                version["n"] += 1
                self.send(200, b"ok", {})
                return
            index = int(self.path.rsplit("/", 1)[1])
            etag = f'"{index}-{version["n"]}"'
            if self.headers.get("If-None-Match") == etag:
                self.send(304, b"", {"ETag": etag})
                return
            body = bodies[(index + version["n"]) % len(bodies)]
            self.send(200, body, {"ETag": etag, "Content-Type": "application/xml"})

    return Handler


def run_case(rt: pipeline.Runtime, keys: list[str], threads: int) -> dict[str, Any]:
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    statuses: dict[str, int] = {}
    latencies: list[float] = []

    def one(key: str) -> None:
        t0 = time.perf_counter()
        result = pipeline.poll_feed(rt, key)
        for entry in result.new_entries:  # as process_entry does once it is recorded
            rt.store.finish_entry(key, entry.id)
        latencies.append((time.perf_counter() - t0) * 1000)
        statuses[result.status] = statuses.get(result.status, 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, keys))
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return {
        "feeds": len(keys),
        "seconds": round(elapsed, 2),
        "feeds_per_second": round(len(keys) / elapsed, 1),
        "cpu_ms_per_poll": round(cpu * 1000 / len(keys), 3),
        "median_poll_ms": round(median(latencies), 2),
        "statuses": statuses,
    }


def parse_speed() -> dict[str, Any]:
    """parse_feed (entity check + fast path + fallback) beside both parsers alone."""
    import fastfeedparser
    import feedparser

    from worker.errors import ParseError
    from worker.feeds.parse import parse_feed

    bodies = farm_bodies()
    timings: dict[str, list[float]] = {"newswatch": [], "feedparser": [], "fastfeedparser": []}
    paths: dict[str, int] = {}
    for body in bodies:
        t0 = time.perf_counter()
        try:
            used = parse_feed(body, "https://example.org/feed").parser
        except ParseError:
            used = "refused"
        timings["newswatch"].append((time.perf_counter() - t0) * 1000)
        paths[used] = paths.get(used, 0) + 1
        t0 = time.perf_counter()
        feedparser.parse(body)
        timings["feedparser"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        with contextlib.suppress(Exception):  # the fast parser rejects some feeds
            fastfeedparser.parse(body)
        timings["fastfeedparser"].append((time.perf_counter() - t0) * 1000)
    result = {
        name: {
            "median_ms": round(median(values), 2),
            "mean_ms": round(sum(values) / len(values), 2),
        }
        for name, values in timings.items()
    }
    result["feeds"] = len(bodies)
    result["parser_used"] = paths
    print(
        f"parse {len(bodies)} feeds: newswatch {result['newswatch']['mean_ms']} ms mean "
        f"({paths}), feedparser {result['feedparser']['mean_ms']} ms, fastfeedparser "
        f"{result['fastfeedparser']['mean_ms']} ms"
    )
    return result


def main(count: int = 2000, threads: int = 32) -> dict[str, Any]:
    port, farm = start_farm(farm_handler)
    folder = Path(tempfile.mkdtemp(prefix="newswatch-feeds-bench-"))
    config_dir = folder / "config"
    (config_dir / "topics").mkdir(parents=True)
    (config_dir / "topics" / "t.yaml").write_text("id: t\ntitle: T\n")
    (config_dir / "newswatch.yaml").write_text(
        yaml.safe_dump(
            {
                "data_dir": str(folder / "data"),
                "allow_private_networks": True,
                "per_host_concurrency": 8,
                "fetch_timeout": "20s",
            }
        )
    )
    feeds = [
        {"url": f"http://127.0.0.{2 + i % HOSTS}:{port}/feed/{i}", "topics": ["t"]}
        for i in range(count)
    ]
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    redis_server = start_redis(folder / "redis", append_only=False)
    try:
        rt = pipeline.Runtime(load_config(config_dir), redis_server.url)
        pipeline.sync_feeds(rt)
        keys = [pipeline.feed_id(f["url"]) for f in feeds]
        warm = run_case(rt, keys, threads)  # first fetch of every feed: stores validators
        all_304 = run_case(rt, keys, threads)
        import httpx

        httpx.get(f"http://127.0.0.1:{port}/bump")
        changed = run_case(rt, keys, threads)
    finally:
        redis_server.stop()
        farm.kill()
    figures = {
        "parse": parse_speed(),
        "threads": threads,
        "cpus": len(os.sched_getaffinity(0)),
        "first_poll": warm,
        "all_304": all_304,
        "all_changed": changed,
        "changed_bodies": "real-feeds" if (SHARED_DATA / "real-feeds").exists() else "fixtures",
    }
    for name in ("all_304", "all_changed"):
        case = figures[name]
        print(
            f"{name}: {case['feeds_per_second']} feeds/s, {case['cpu_ms_per_poll']} ms CPU "
            f"per poll, median poll {case['median_poll_ms']} ms, {case['statuses']}"
        )
    write_result("feeds", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

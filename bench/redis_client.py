"""Client-side CPU of newswatch's Redis calls with hiredis's reply parser and with redis-py's.

redis-py parses replies (and packs commands) with hiredis, a C library, when it is
installed, else in Python. The same store calls are run against a real Redis through two
stores, one per parser, alternating round by round: the web view's alert log (200 events
and their deliveries, one MGET and one pipeline of HGETALLs), the latest events (a
ZREVRANGE and a GET each), the task histograms, and a poll's seen-entries step (a script
given 1,000 entry ids). Measured: this process's CPU time per round (Redis's own is not
counted), median of each parser's rounds, and the ratio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from redis.connection import _HiredisParser, _RESP3Parser

from bench.common import median, write_result
from bench.delivery import sample_event
from worker.alerts import Delivery
from worker.store import Store
from worker.store.embedded import start_redis

EVENTS = 200
ENTRY_IDS = [f"entry-{n:05d}" for n in range(1000)]
ROUNDS = 21


def store_with(url: str, parser: type[Any]) -> Store:
    """A store whose connections parse with `parser` (connect()'s settings otherwise)."""
    return Store(
        redis.Redis.from_url(url, decode_responses=True, socket_timeout=30, parser_class=parser)
    )


def fill(store: Store) -> list[str]:
    ids = [f"evt_bench{n:06d}" for n in range(EVENTS)]
    for event_id in ids:
        store.save_event(sample_event(event_id))
        store.save_delivery(event_id, "hook", Delivery("delivered", attempts=1, updated=1.0))
        store.save_delivery(event_id, "mail", Delivery("pending", updated=1.0))
    for task in ("newswatch.tick", "newswatch.poll_feed", "newswatch.process_entries"):
        for seconds in (0.01, 0.2, 3.0):
            store.record_task_times(task, {"duration": seconds, "wait": seconds / 2})
    store.listed_entries("feed", ENTRY_IDS, now=1.0, forget_before=0.0)
    return ids


def one_round(store: Store, ids: list[str]) -> float:
    """CPU seconds this process spends on one round of the calls."""
    started = time.process_time()
    store.events_by_id(ids)
    store.deliveries_of(ids)
    store.recent_events(EVENTS)
    store.task_times("duration")
    store.listed_entries("feed", ENTRY_IDS, now=2.0, forget_before=0.0)
    return time.process_time() - started


def main(rounds: int = ROUNDS) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="newswatch-redis-client-bench-"))
    server = start_redis(folder / "redis", append_only=False)
    try:
        stores: dict[str, Store] = {
            "hiredis": store_with(server.url, _HiredisParser),
            "redis_py": store_with(server.url, _RESP3Parser),
        }
        ids = fill(stores["redis_py"])
        for store in stores.values():  # connections made, scripts loaded
            one_round(store, ids)
        times: dict[str, list[float]] = {name: [] for name in stores}
        for _ in range(rounds):
            for name, store in stores.items():
                times[name].append(one_round(store, ids))
    finally:
        server.stop()
    ms = {name: round(median(values) * 1000, 2) for name, values in times.items()}
    figures = {
        "rounds": rounds,
        "events": EVENTS,
        "entry_ids": len(ENTRY_IDS),
        "cpu_ms_per_round_median": ms,
        "hiredis_ratio": round(ms["hiredis"] / ms["redis_py"], 3),
    }
    print(
        f"redis client: {ms['hiredis']} ms CPU per round with hiredis, {ms['redis_py']} ms "
        f"with redis-py's parser ({figures['hiredis_ratio']}×; medians of {rounds} rounds each)"
    )
    write_result("redis_client", figures)
    return figures


if __name__ == "__main__":
    main()

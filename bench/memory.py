"""Worker memory: the default workers of `newswatch run` (the prefork worker, its two
children, and the poller) idle and under a burst of new entries, as PSS.

PSS (proportional set size) counts a page shared by N processes as 1/N in each, so the
sum over every worker process counts the pages that forked children share with their
parent once: what the workers cost the machine. Sampled each second; each process's peak,
and at the moment of the total's peak what it is made of (anonymous memory private to
one process, anonymous memory shared after the fork, mapped files).

A smaller burst than bench/load.py's (the same farm, feeds and pages), enough to take the
children to their working size:

    python -m bench.memory [FEEDS [ENTRIES_PER_FEED]]      # default 100 × 10
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bench.common import start_farm, write_result
from bench.load import cpu_seconds, farm_handler, feed_url, start_service

# smaps_rollup fields kept for each process, in MB.
FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Dirty", "Shared_Dirty")


def processes(pids: list[int]) -> dict[str, int]:
    """Every worker process by name: `worker`, `worker child 1`…, `poller`."""
    named: dict[str, int] = {}
    for name, pid in zip(("worker", "poller"), pids, strict=False):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        named[name] = pid
        for index, child in enumerate(map(int, children), start=1):
            named[f"{name} child {index}"] = child
    return named


def rollup(pid: int) -> dict[str, float] | None:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines()[1:]:
        key, _, rest = line.partition(":")
        if key in FIELDS:
            values[key] = int(rest.split()[0]) / 1024
    return values


def sample(pids: list[int]) -> dict[str, dict[str, float]]:
    found = {name: rollup(pid) for name, pid in processes(pids).items()}
    return {name: values for name, values in found.items() if values is not None}


def total(snapshot: dict[str, dict[str, float]]) -> float:
    return sum(values["Pss"] for values in snapshot.values())


def main(feeds: int = 100, per_feed: int = 10, timeout: float = 1800) -> dict[str, Any]:
    port, farm = start_farm(farm_handler, per_feed)
    folder = Path(tempfile.mkdtemp(prefix="newswatch-memory-"))
    receiver, config, server = start_service(folder, port, feeds)
    from worker import launcher, pipeline, tasks
    from worker.config import load_config

    services = launcher.Services(server.url)
    launcher.start_workers(services, load_config(config), quiet=True)
    samples: list[tuple[float, dict[str, dict[str, float]]]] = []
    stop = threading.Event()
    try:
        assert launcher.wait_for_worker(90), "workers did not start"
        rt = tasks.runtime()
        pipeline.sync_feeds(rt)
        pids = [child.pid for child in services.children]

        def sampler() -> None:
            while not stop.is_set():
                samples.append((time.time(), sample(pids)))
                time.sleep(1)

        thread = threading.Thread(target=sampler, daemon=True)
        thread.start()
        time.sleep(5)  # idle: workers started and waiting
        idle = list(samples)

        def poll_every_feed() -> str:
            run = uuid.uuid4().hex[:12]
            for f in range(feeds):
                url = feed_url(port, f)
                tasks.send(tasks.poll_feed, pipeline.feed_id(url), run=run)
            deadline = time.monotonic() + timeout
            while rt.store.run_pending(run) > 0 and time.monotonic() < deadline:
                time.sleep(0.5)
            return run

        poll_every_feed()  # each feed's baseline: nothing listed yet
        urllib.request.urlopen(f"http://127.0.0.1:{port}/publish").read()
        started, cpu_before = time.time(), cpu_seconds(pids)
        run = poll_every_feed()
        seconds, cpu = time.time() - started, cpu_seconds(pids) - cpu_before
        processed = len(rt.store.run_marks(run, "entries"))
        time.sleep(5)  # settled: the burst over, what the workers keep
        settled = [s for t, s in samples if t > started + seconds]
        stop.set()
        thread.join()
    finally:
        launcher.stop_children(services, timeout=30)
        server.stop()
        farm.kill()
        receiver.shutdown()
    loaded = [snapshot for t, snapshot in samples if t >= started]
    at_peak = max(loaded, key=total)
    peaks: dict[str, float] = {}
    for _, snapshot in samples:
        for name, values in snapshot.items():
            peaks[name] = max(peaks.get(name, 0.0), values["Pss"])
    figures = {
        "feeds": feeds,
        "entries": feeds * per_feed,
        "processed": processed,
        "seconds": round(seconds, 1),
        "worker_cpu_ms_per_entry": round(cpu * 1000 / max(1, processed), 2),
        "environment": {
            name: os.environ[name] for name in ("MALLOC_ARENA_MAX",) if name in os.environ
        },
        "worker_pss_mb_idle": round(max(total(s) for _, s in idle), 1),
        "worker_pss_mb_max": round(total(at_peak), 1),
        "worker_pss_mb_settled": round(max(total(s) for s in settled), 1),
        "pss_mb_max_by_process": {name: round(mb, 1) for name, mb in sorted(peaks.items())},
        "at_peak_mb": {
            name: {key: round(mb, 1) for key, mb in values.items()}
            for name, values in sorted(at_peak.items())
        },
        "idle_mb": {
            name: {key: round(mb, 1) for key, mb in values.items()}
            for name, values in sorted(idle[-1][1].items())
        },
    }
    print(
        f"memory: {processed:,} of {figures['entries']:,} entries in {figures['seconds']} s "
        f"({figures['worker_cpu_ms_per_entry']} ms of worker CPU each); "
        f"worker PSS {figures['worker_pss_mb_idle']} MB idle, {figures['worker_pss_mb_max']} "
        f"MB max, {figures['worker_pss_mb_settled']} MB after the burst"
    )
    print("  PSS max by process (MB):", figures["pss_mb_max_by_process"])
    for name, values in figures["at_peak_mb"].items():
        print(f"  at peak, {name}:", values)
    write_result("memory", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

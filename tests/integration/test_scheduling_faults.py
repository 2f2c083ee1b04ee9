"""Beat and worker faults: two beats at once, beat stopped and started again, a poller
killed mid-poll, a worker's warm shutdown with tasks in hand. After each, every entry is
processed once and every document written once."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.integration.test_redis_outage import PAGE, STORIES, documents, feed, wait_for
from tests.support import report, start_poll_once, write_config
from worker import launcher
from worker.config import load_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration
FAST = {
    "poll_interval": "1s",
    "min_poll_interval": "1s",
    "max_poll_interval": "2s",
    "tick_interval": "1s",
    "task_time_limit": "6s",
}


def manifest(folder: Path) -> list[dict]:
    path = folder / "corpus" / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def serve_story(site: LoopbackServer, count: int) -> None:
    for n in range(1, len(STORIES) + 1):
        site.serve(f"/a/{n}", PAGE.format(n=n, story=STORIES[n - 1]))
    site.serve("/feed", feed(site.base, count), "application/rss+xml")


def test_two_beats_at_once_and_a_beat_restart(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    with LoopbackServer() as site:
        serve_story(site, 1)
        config = load_config(
            write_config(
                tmp_path,
                feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}],
                service=FAST,
            )
        )
        try:
            launcher.start_workers(services, config, quiet=True)
            first_beat = launcher.start_beat(services, config, quiet=True)
            launcher.start_beat(services, config, quiet=True, schedule_name="second")
            assert wait_for(lambda: len(documents(tmp_path)) == 1, 60)
            polls_before = sum(1 for _, p, _ in site.requests if p == "/feed")
            time.sleep(4)
            polls = sum(1 for m, p, _ in site.requests if p == "/feed") - polls_before
            assert polls <= 4 + 1  # one poll per interval, not one per beat per interval

            first_beat.send_signal(signal.SIGTERM)
            first_beat.wait(20)
            services.children.remove(first_beat)
            for child in list(services.children):
                if "beat" in child.args:
                    os.killpg(child.pid, signal.SIGTERM)
                    child.wait(20)
                    services.children.remove(child)
            serve_story(site, 2)  # news arrives while no beat runs
            time.sleep(3)
            assert len(documents(tmp_path)) == 1
            launcher.start_beat(services, config, quiet=True)
            assert wait_for(lambda: len(documents(tmp_path)) == 2, 60), "made up after restart"
        finally:
            launcher.stop_children(services, timeout=10)
    records = manifest(tmp_path)
    report(
        "two beats at once, then beat stopped and restarted",
        entries=2,
        documents=len(documents(tmp_path)),
        manifest_lines=len(records),
        polls_in_4s_with_two_beats=polls,
    )
    assert len(records) == 2 and len({r["id"] for r in records}) == 2


def test_a_poller_killed_mid_poll_loses_no_entry(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    hanging, release = threading.Event(), threading.Event()

    with LoopbackServer() as site:
        serve_story(site, 3)
        static = site.routes["/feed"]

        def slow_feed(request: BaseHTTPRequestHandler):
            if not hanging.is_set():
                hanging.set()
                release.wait(30)
            return static

        site.routes["/feed"] = slow_feed
        config = load_config(
            write_config(
                tmp_path,
                feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}],
                service=FAST,
            )
        )
        try:
            launcher.start_workers(services, config, quiet=True)
            launcher.start_beat(services, config, quiet=True)
            assert wait_for(hanging.is_set, 60)
            poller = next(c for c in services.children if "poller" in c.args)
            os.killpg(poller.pid, signal.SIGKILL)
            poller.wait()
            services.children.remove(poller)
            release.set()
            launcher.start_poller(services, config, quiet=True)
            assert wait_for(lambda: len(documents(tmp_path)) == 3, 90)
            time.sleep(3)
        finally:
            launcher.stop_children(services, timeout=10)
    report(
        "poller SIGKILLed mid-poll",
        entries=3,
        documents=len(documents(tmp_path)),
        manifest_lines=len(manifest(tmp_path)),
    )
    assert len(manifest(tmp_path)) == 3


def test_warm_shutdown_with_tasks_in_hand_loses_and_doubles_nothing(
    tmp_path: Path, redis_url: str
) -> None:
    services = launcher.Services(redis_url)
    with LoopbackServer() as site:
        serve_story(site, 3)
        for n in range(1, 4):  # each article takes a while, so tasks queue behind it
            body = site.routes[f"/a/{n}"]
            site.routes[f"/a/{n}"] = lambda request, body=body: (time.sleep(1.5), body)[1]
        config_dir = write_config(
            tmp_path, feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}]
        )
        config = load_config(config_dir)
        try:
            worker = launcher.start_worker(services, config, concurrency=1, quiet=True)
            launcher.start_poller(services, config, quiet=True)
            poll = start_poll_once(config_dir, redis_url)
            assert wait_for(lambda: any(p.startswith("/a/") for _, p, _ in site.requests), 60)
            os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown mid-task
            worker.wait(30)
            services.children.remove(worker)
            launcher.start_worker(services, config, concurrency=1, quiet=True)
            out, err = poll.communicate(timeout=120)
        finally:
            launcher.stop_children(services, timeout=10)
    report(
        "warm shutdown with tasks in hand",
        entries=3,
        documents=len(documents(tmp_path)),
        manifest_lines=len(manifest(tmp_path)),
    )
    assert poll.returncode == 0, err
    assert "documents: 3 written" in out
    assert len(manifest(tmp_path)) == 3 and len(documents(tmp_path)) == 3

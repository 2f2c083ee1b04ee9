"""`poll_interval` means what it says: with real workers and beat, a feed set to a few
seconds is polled again within that, although `min_poll_interval` (5m) is longer and the
feed publishes every twenty minutes (the adaptive schedule alone would say ten)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from worker import launcher
from worker.config import load_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration


def feed(base: str, count: int) -> str:
    items = "".join(
        f"<item><title>t{n}</title><link>{base}/a/{n}</link><guid>g{n}</guid>"
        f"<pubDate>Mon, 04 Nov 2024 {n * 20 // 60:02d}:{n * 20 % 60:02d}:00 GMT</pubDate></item>"
        for n in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    )


def test_a_new_item_waits_no_longer_than_the_poll_interval(tmp_path: Path, redis_url: str) -> None:
    services = launcher.Services(redis_url)
    with LoopbackServer() as site:
        site.serve("/feed", feed(site.base, 4), "application/rss+xml")
        config = load_config(
            write_config(
                tmp_path,
                feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}],
                service={"poll_interval": "2s", "tick_interval": "1s"},
            )
        )

        def polls() -> int:
            return sum(1 for _, path, _ in site.requests if path == "/feed")

        try:
            launcher.start_poller(services, config, quiet=True)
            launcher.start_beat(services, config, quiet=True)
            # Generous deadlines for a busy machine; the old schedule waited 300 s.
            deadline = time.monotonic() + 90
            while polls() < 1 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert polls() >= 1, "the feed was never polled"
            site.serve("/feed", feed(site.base, 5), "application/rss+xml")  # a new item
            first = polls()
            deadline = time.monotonic() + 90
            while polls() == first and time.monotonic() < deadline:
                time.sleep(0.2)
            assert polls() > first, "the new item was not fetched within 90 s"
        finally:
            launcher.stop_children(services, timeout=10)

"""Per-host slots with real workers: a poller SIGKILLed while it holds a host's only slot
blocks that host only until the slot's lease runs out, and `poll --once` polls every feed
of a busy host, waiting its turn instead of skipping it."""

from __future__ import annotations

import os
import signal
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.alerts.conftest import SECRET
from tests.integration.test_redis_outage import documents, wait_for
from tests.integration.test_slice import run_cli
from tests.support import distinct_page, one_delivery_per_event, report, write_config
from worker import launcher
from worker.config import load_config
from worker.demo.servers import LoopbackServer, WebhookReceiver
from worker.store import Store, connect

pytestmark = pytest.mark.integration


def feed(base: str, numbers: list[int]) -> str:
    items = "".join(
        f"<item><title>{n}</title><link>{base}/a/{n}</link><guid>g{n}</guid></item>"
        for n in numbers
    )
    return f'<rss version="2.0"><channel><title>W</title>{items}</channel></rss>'


@pytest.mark.timeout(400)
def test_a_poller_killed_holding_a_host_slot_blocks_the_host_only_for_its_lease(
    tmp_path: Path, redis_url: str
) -> None:
    services = launcher.Services(redis_url)
    hanging, release = threading.Event(), threading.Event()
    verifier = Webhook(SECRET)
    with (
        LoopbackServer() as site,
        WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver,
    ):
        for n in range(1, 6):
            site.serve(f"/a/{n}", distinct_page(n, troops=11_000 + 1_000 * n))
        site.serve("/one", feed(site.base, [1, 2]), "application/rss+xml")
        site.serve("/two", feed(site.base, [3, 4]), "application/rss+xml")
        static = site.routes["/one"]

        def slow_feed(request: BaseHTTPRequestHandler):
            if not hanging.is_set():
                hanging.set()
                release.wait(60)  # the poller holding the host's one slot dies meanwhile
            return static

        site.routes["/one"] = slow_feed
        config = load_config(
            write_config(
                tmp_path,
                feeds=[
                    {"url": f"{site.base}/one", "topics": ["nk-troops-russia"]},
                    {"url": f"{site.base}/two", "topics": ["nk-troops-russia"]},
                ],
                channels={"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
                service={
                    "per_host_concurrency": 1,
                    "fetch_timeout": "4s",
                    "tick_interval": "1s",
                    "task_time_limit": "10s",
                    "poll_interval": "1s",
                    "min_poll_interval": "1s",
                    "max_poll_interval": "2s",
                },
            )
        )
        try:
            launcher.start_workers(services, config, quiet=True)
            launcher.start_beat(services, config, quiet=True)
            assert wait_for(hanging.is_set, 120), "the first poll"
            poller = next(c for c in services.children if "poller" in c.args)
            os.killpg(poller.pid, signal.SIGKILL)
            poller.wait()
            services.children.remove(poller)
            launcher.start_poller(services, config, quiet=True)
            assert wait_for(lambda: len(documents(tmp_path)) == 4, 180), documents(tmp_path)
            release.set()
            # Both feeds' first polls were their baseline: news on the host is alerted.
            site.serve("/two", feed(site.base, [3, 4, 5]), "application/rss+xml")
            assert wait_for(lambda: len(documents(tmp_path)) == 5, 120), "news after the kill"
            store = Store(connect(redis_url))
            assert wait_for(lambda: len(receiver.events) >= len(store.recent_events(100)), 60)
            wait_for(lambda: False, 3)  # a few more ticks: nothing may arrive twice
        finally:
            release.set()
            launcher.stop_children(services, timeout=10)
        events, delivered = one_delivery_per_event(store, receiver.events)
    report(
        "poller SIGKILLed holding a host slot",
        entries=5,
        documents=len(documents(tmp_path)),
        events=events,
        delivered=delivered,
    )
    assert len(documents(tmp_path)) == 5 and events >= 1


def test_poll_once_polls_every_feed_of_a_busy_host(tmp_path: Path, redis_url: str) -> None:
    with LoopbackServer() as site:
        for n in range(1, 5):
            site.serve(f"/a/{n}", distinct_page(n))
            site.serve(f"/section/{n}", feed(site.base, [n]), "application/rss+xml")
        config = write_config(
            tmp_path,
            feeds=[
                {"url": f"{site.base}/section/{n}", "topics": ["nk-troops-russia"]}
                for n in range(1, 5)
            ],
            service={"per_host_concurrency": 1},
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        result = run_cli("poll", "--once", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "polled 4 feed(s): 4 changed" in result.stdout, result.stdout
    assert "documents: 4 written" in result.stdout
    assert len(documents(tmp_path)) == 4

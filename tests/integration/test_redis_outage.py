"""Redis stopped under a running worker, poller and beat, then started again: the workers
resume consuming, beat's next tick makes up the lost ones, and nothing is written twice,
with the append-only file and without it (then the indexes are rebuilt from the corpus)."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.alerts.conftest import SECRET, figure_event
from tests.support import distinct_page, one_delivery_per_event, report, write_config
from worker import launcher, pipeline
from worker.config import load_config
from worker.demo.servers import LoopbackServer, WebhookReceiver
from worker.store import STORE_ERRORS, Store, connect
from worker.store.embedded import free_port, start_redis

pytestmark = pytest.mark.integration
# 8 s in the test suite; bench/faults.py runs it longer (NEWSWATCH_OUTAGE_SECONDS=60).
OUTAGE_SECONDS = int(os.environ.get("NEWSWATCH_OUTAGE_SECONDS", "8"))

STORIES = [
    "Seoul menyebut Korea Utara telah mengirim pasukan tambahan ke Rusia pada pekan ini, dan "
    "pasukan itu kini berada di wilayah Kursk menurut badan intelijen.",
    "Kremlin menolak mengomentari laporan bahwa unit artileri dari Pyongyang telah tiba di "
    "Kursk dengan kereta api dari Timur Jauh Rusia.",
    "Pentagon memperingatkan bahwa kerja sama militer Moskow dan Korea Utara dapat memperluas "
    "perang, sementara NATO menggelar pertemuan darurat di Brussels.",
]
PAGE = """<html lang="id"><head><title>{n}</title></head><body><article>
<p>{story}</p><p>Laporan nomor {n} dari meja internasional, disusun dari berbagai sumber
diplomatik dan militer yang dihubungi sepanjang hari.</p></article></body></html>"""


def feed(base: str, count: int) -> str:
    items = "".join(
        f"<item><title>{n}</title><link>{base}/a/{n}</link><guid>g{n}</guid></item>"
        for n in range(1, count + 1)
    )
    return f'<rss version="2.0"><channel><title>W</title>{items}</channel></rss>'


def documents(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "corpus").glob("*.txt"))


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.timeout(400 + OUTAGE_SECONDS)
@pytest.mark.parametrize("append_only", [True, False], ids=["aof", "no-aof"])
def test_workers_resume_after_redis_comes_back(tmp_path: Path, append_only: bool) -> None:
    port = free_port()
    redis_dir = tmp_path / "redis"
    server = start_redis(redis_dir, port=port, append_only=append_only)
    services = launcher.Services(server.url)
    with LoopbackServer() as site:
        for n in range(1, 4):
            site.serve(f"/a/{n}", PAGE.format(n=n, story=STORIES[n - 1]))
        site.serve("/feed", feed(site.base, 1), "application/rss+xml")
        config_dir = write_config(
            tmp_path,
            feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}],
            service={
                "poll_interval": "1s",
                "min_poll_interval": "1s",
                "max_poll_interval": "2s",
                "tick_interval": "1s",
            },
        )
        config = load_config(config_dir)
        try:
            quiet = os.environ.get("NEWSWATCH_TEST_VERBOSE") is None
            launcher.start_workers(services, config, quiet=quiet)
            launcher.start_beat(services, config, quiet=quiet)
            assert wait_for(lambda: len(documents(tmp_path)) == 1, 90), "first document"

            server.stop()  # Redis goes away under load ...
            site.serve("/feed", feed(site.base, 2), "application/rss+xml")
            time.sleep(OUTAGE_SECONDS)
            server = start_redis(redis_dir, port=port, append_only=append_only)  # ... and back

            assert wait_for(lambda: len(documents(tmp_path)) == 2, 120), (
                f"after the outage: {documents(tmp_path)}"
            )
            site.serve("/feed", feed(site.base, 3), "application/rss+xml")
            assert wait_for(lambda: len(documents(tmp_path)) == 3, 60), "a task still runs"
            time.sleep(3)  # a few more polls: nothing may be written twice
        finally:
            launcher.stop_children(services, timeout=10)
            server.stop()
    records = [
        json.loads(line)
        for line in (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    ]
    report(
        f"Redis stopped {OUTAGE_SECONDS} s under load ({'AOF' if append_only else 'no AOF'})",
        entries=3,
        documents=len(documents(tmp_path)),
        manifest_lines=len([r for r in records if r["file"]]),
    )
    assert [name[:3] for name in documents(tmp_path)] == ["001", "002", "003"]
    assert len([r for r in records if r["file"]]) == 3


ENTRIES_UNDER_LOAD = 10


@pytest.mark.timeout(600 + OUTAGE_SECONDS)
@pytest.mark.parametrize("stop", ["sigkill", "graceful"])
def test_redis_restarted_while_articles_are_processed_loses_nothing(
    tmp_path: Path, stop: str
) -> None:
    """Redis goes away while both workers are busy with articles, and comes back with its
    append-only file: every entry ends as one document, every event is delivered once."""
    port = free_port()
    redis_dir = tmp_path / "redis"
    server = start_redis(redis_dir, port=port, append_only=True)
    services = launcher.Services(server.url)
    verifier = Webhook(SECRET)
    with (
        LoopbackServer() as site,
        WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver,
    ):
        for n in range(1, ENTRIES_UNDER_LOAD + 1):
            body = distinct_page(n, troops=10_000 + 1_000 * n).encode()
            # Each page takes a moment, so articles are in hand when Redis goes.
            site.routes[f"/a/{n}"] = lambda request, body=body: (
                time.sleep(0.5),
                (200, {"Content-Type": "text/html; charset=utf-8"}, body),
            )[1]
        # What a feed lists when first polled is its baseline (never alerted): one entry
        # first, then nine more, which are news and raise alerts.
        site.serve("/feed", feed(site.base, 1), "application/rss+xml")
        config = load_config(
            write_config(
                tmp_path,
                feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}],
                channels={"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
                service={
                    "poll_interval": "1s",
                    "min_poll_interval": "1s",
                    "max_poll_interval": "2s",
                    "tick_interval": "1s",
                    "task_time_limit": "10s",
                },
            )
        )
        try:
            # Not quiet: on a failure the workers' logs are in the test's captured output.
            launcher.start_workers(services, config)
            launcher.start_beat(services, config)
            assert wait_for(lambda: len(documents(tmp_path)) >= 1, 120), "the first document"
            site.serve("/feed", feed(site.base, ENTRIES_UNDER_LOAD), "application/rss+xml")
            assert wait_for(lambda: len(documents(tmp_path)) >= 2, 120), "the news"
            written_before = len(documents(tmp_path))

            if stop == "sigkill":
                server.process.kill()
                server.process.wait()
                if server.process.stderr:
                    server.process.stderr.close()
            else:
                server.stop()
            time.sleep(OUTAGE_SECONDS)
            server = start_redis(redis_dir, port=port, append_only=True)

            assert wait_for(lambda: len(documents(tmp_path)) == ENTRIES_UNDER_LOAD, 300), (
                f"after the restart: {len(documents(tmp_path))} documents"
            )
            store = Store(connect(server.url))
            assert wait_for(lambda: len(receiver.events) >= len(store.recent_events(1000)), 180)
            time.sleep(3)  # a few more ticks and polls: nothing may be written or sent twice
            events, delivered = one_delivery_per_event(store, receiver.events)
        finally:
            launcher.stop_children(services, timeout=10)
            server.stop()
    records = [
        json.loads(line)
        for line in (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    ]
    files = [r["file"] for r in records if r["file"]]
    report(
        f"Redis {'SIGKILLed' if stop == 'sigkill' else 'stopped'} under load, "
        f"{OUTAGE_SECONDS} s, AOF",
        entries=ENTRIES_UNDER_LOAD,
        documents_before_stop=written_before,
        documents=len(documents(tmp_path)),
        manifest_lines=len(files),
        events=events,
        delivered=delivered,
    )
    assert len(files) == len(set(files)) == ENTRIES_UNDER_LOAD
    assert len({r["id"] for r in records}) == ENTRIES_UNDER_LOAD
    assert events >= 1  # the news raised alerts, each delivered once (checked above)


@pytest.mark.timeout(180)
def test_redis_gone_while_a_webhook_is_in_flight_delivers_it_once(tmp_path: Path) -> None:
    """Redis goes away just as the receiver accepts an event and comes back seconds later:
    the attempt records the delivery once Redis answers again, so the tick, handing out
    what is still due once the delivery's lease has run out, finds it made, and the
    receiver has the event once (it had it twice when the attempt gave up on the record)."""
    port = free_port()
    redis_dir = tmp_path / "redis"
    server = start_redis(redis_dir, port=port, append_only=True)
    gone = threading.Event()

    def redis_goes_away(_: dict) -> None:
        if not gone.is_set():
            server.stop()
            gone.set()

    verifier = Webhook(SECRET)
    with (
        WebhookReceiver(
            lambda body, headers: verifier.verify(body, headers), on_event=redis_goes_away
        ) as receiver,
        ThreadPoolExecutor(1) as attempts,
    ):
        channels = {"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}}
        config = load_config(write_config(tmp_path, channels=channels))
        rt = pipeline.Runtime(config, server.url)
        event = figure_event()
        try:
            assert rt.store.save_event(event)
            assert pipeline.route_event(rt, event) == ["hook"]
            rt.store.schedule("deliveries", f"{event.id}|hook", time.time() + rt.hand_off_lease)
            first = attempts.submit(pipeline.deliver, rt, event.id, "hook")
            assert gone.wait(60), "the event reached the receiver"
            time.sleep(5)
            # Started from this thread: Redis ends with the thread that started it.
            server = start_redis(redis_dir, port=port, append_only=True)
            with contextlib.suppress(*STORE_ERRORS):  # its task would be retried
                first.result(timeout=120)
            # The tick, once the lease has run out: whatever is still due is sent again.
            later = time.time() + rt.hand_off_lease + 1
            for due in rt.store.claim_due("deliveries", later, rt.hand_off_lease):
                pipeline.deliver(rt, *due.split("|", 1))
            delivery = rt.store.delivery(event.id, "hook")
        finally:
            server.stop()
    assert [e["id"] for e in receiver.events] == [event.id]
    assert delivery is not None and delivery.state == "delivered"

"""Faults with real parts: workers killed with SIGKILL in the middle of a delivery and of
an article, the receiver or the page hanging at that moment. Nothing is lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.alerts.conftest import SECRET, figure_event
from tests.support import report, start_poll_once, write_config
from worker import launcher
from worker.alerts.events import AlertEvent, payload
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.store import Store, connect

pytestmark = pytest.mark.integration


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def cluster(tmp_path: Path, redis_url: str) -> Iterator[tuple[Path, launcher.Services]]:
    services = launcher.Services(redis_url)
    yield tmp_path, services
    launcher.stop_children(services, timeout=5)


def start(services: launcher.Services, config_dir: Path) -> None:
    config = load_config(config_dir)
    launcher.start_workers(services, config, quiet=True)
    launcher.start_beat(services, config, quiet=True)


def enqueue_event(config_dir: Path, redis_url: str, event: AlertEvent) -> None:
    """Save and route an event as the pipeline does, from another process."""
    code = (
        "import json, sys; from worker import tasks; rt = tasks.runtime(); "
        "from worker.alerts.events import from_payload; "
        "event = from_payload(sys.argv[1]); rt.store.save_event(event); "
        "tasks._route(rt, event, None)"
    )
    env = {**os.environ, "NEWSWATCH_CONFIG_DIR": str(config_dir), "NEWSWATCH_REDIS_URL": redis_url}
    subprocess.run(
        [sys.executable, "-c", code, event.model_dump_json()], env=env, check=True, timeout=60
    )


def test_a_worker_killed_mid_delivery_delivers_after_restart(cluster, redis_url: str) -> None:
    folder, services = cluster
    verifier = Webhook(SECRET)
    hanging = threading.Event()
    release = threading.Event()
    accepted: list[tuple[str, dict]] = []

    def hook(request: BaseHTTPRequestHandler):
        body = request.rfile.read(int(request.headers["content-length"]))
        if not hanging.is_set():
            hanging.set()
            release.wait(30)  # the worker is killed while we hold the request
            return 503, {}, b""
        event = verifier.verify(body, dict(request.headers))
        accepted.append((request.headers["webhook-id"], event))
        return 204, {}, b""

    with LoopbackServer() as receiver:
        receiver.routes["/hook"] = hook
        config_dir = write_config(
            folder,
            channels={
                "hook": {
                    "type": "webhook",
                    "url": f"{receiver.base}/hook",
                    "secret": SECRET,
                    "timeout": "60s",
                }
            },
            service={"task_time_limit": "8s", "tick_interval": "1s"},
        )
        start(services, config_dir)
        event = figure_event()
        enqueue_event(config_dir, redis_url, event)
        wait_until(hanging.is_set, 60, "the first delivery attempt")
        poller = next(c for c in services.children if "poller" in c.args)
        os.killpg(poller.pid, signal.SIGKILL)
        poller.wait()
        release.set()
        services.children.remove(poller)
        launcher.start_poller(services, load_config(config_dir), quiet=True)
        wait_until(lambda: accepted, 90, "the delivery after restart")
    store = Store(connect(redis_url))
    report(
        "worker SIGKILLed mid-delivery",
        events=1,
        delivered=len(accepted),
        distinct_webhook_ids=len({i for i, _ in accepted}),
        state=store.delivery(event.id, "hook").state,
    )
    assert [webhook_id for webhook_id, _ in accepted] == [event.id]
    assert accepted[0][1] == payload(event)
    assert store.delivery(event.id, "hook").state == "delivered"


ARTICLE = """<html lang="en"><head><title>x</title></head><body><article>
<h1>Seoul: 12,000</h1>
<p>South Korea's intelligence service says North Korea has sent about 12,000 troops to Russia.</p>
<p>The service told lawmakers that the soldiers are deployed in the Kursk region and that more
could follow next year, in an assessment shared with allies on Tuesday.</p>
</article></body></html>"""


def serve_one_article(site: LoopbackServer, folder: Path, page) -> Path:
    """A feed with one entry whose page `page` answers; the config folder polling it."""
    site.routes["/a"] = page
    site.serve(
        "/feed",
        f"""<rss version="2.0"><channel><title>W</title>
<item><title>Seoul</title><link>{site.base}/a</link><guid>a-1</guid></item></channel></rss>""",
        "application/rss+xml",
    )
    return write_config(
        folder, feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}]
    )


def test_a_worker_process_killed_mid_article_loses_nothing(cluster, redis_url: str) -> None:
    folder, services = cluster
    hanging = threading.Event()
    release = threading.Event()
    page_requests = []

    def page(request: BaseHTTPRequestHandler):
        page_requests.append(time.time())
        if not hanging.is_set():
            hanging.set()
            release.wait(30)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE.encode()

    with LoopbackServer() as site:
        config_dir = serve_one_article(site, folder, page)
        launcher.start_workers(services, load_config(config_dir), quiet=True)
        poll = start_poll_once(config_dir, redis_url)
        wait_until(hanging.is_set, 60, "the article fetch")
        worker = next(c for c in services.children if "worker" in c.args)
        children = subprocess.run(
            ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
        ).stdout.split()
        for child in children:  # the pool process doing the work dies, as under the OOM killer
            os.kill(int(child), signal.SIGKILL)
        release.set()
        out, err = poll.communicate(timeout=120)
    documents = list((folder / "corpus").glob("*.txt"))
    manifest = (folder / "corpus" / "manifest.jsonl").read_text().splitlines()
    report(
        "pool process SIGKILLed mid-article",
        entries=1,
        page_fetches=len(page_requests),
        documents=len(documents),
        manifest_lines=len(manifest),
    )
    assert poll.returncode == 0, err
    assert "documents: 1 written" in out
    assert len(page_requests) >= 2  # fetched again after the kill
    assert len(documents) == 1
    assert len(manifest) == 1


def test_a_transient_failure_is_retried_not_dropped(cluster, redis_url: str) -> None:
    """The corpus folder cannot be written (a file stands in its place) until it is
    fixed: the task is retried with backoff and the entry's document is written."""
    folder, services = cluster
    (folder / "corpus").write_text("not a folder")
    fetched = threading.Event()

    def page(request: BaseHTTPRequestHandler):
        fetched.set()
        return 200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE.encode()

    with LoopbackServer() as site:
        config_dir = serve_one_article(site, folder, page)
        launcher.start_workers(services, load_config(config_dir), quiet=True)
        poll = start_poll_once(config_dir, redis_url)
        wait_until(fetched.is_set, 60, "the first attempt")
        time.sleep(1)
        (folder / "corpus").unlink()  # the disk is fixed
        out, err = poll.communicate(timeout=120)
    report(
        "transient failure (corpus unwritable), then fixed",
        entries=1,
        documents=len(list((folder / "corpus").glob("*.txt"))),
    )
    assert poll.returncode == 0, err
    assert "documents: 1 written" in out
    assert len(list((folder / "corpus").glob("*.txt"))) == 1

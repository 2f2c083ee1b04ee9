"""`newswatch web` over what a run of the demo kept: the API and `/metrics` agree with what
the demo printed and wrote, scraped and checked by name and value."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from worker.store.embedded import free_port

pytestmark = pytest.mark.integration

TOPIC = "nk-troops-russia"
AUTH = ("desk", "demo-web-pass")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_api_and_metrics_after_the_demo(tmp_path: Path) -> None:
    kept = tmp_path / "demo"
    demo = subprocess.run(
        [sys.executable, "-m", "worker.cli", "demo", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 0, demo.stderr
    printed = re.findall(r"ALERT (\S+):", demo.stdout)
    assert printed, demo.stdout

    env = {**os.environ, "NEWSWATCH_WEB_USER": AUTH[0], "NEWSWATCH_WEB_PASSWORD": AUTH[1]}
    env.pop("NEWSWATCH_REDIS_URL", None)  # the demo's own Redis, kept in its data folder
    missing = subprocess.run(
        [sys.executable, "-m", "worker.cli", "web", "--config", str(kept / "config")],
        env={k: v for k, v in env.items() if k != "NEWSWATCH_WEB_PASSWORD"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "NEWSWATCH_WEB_PASSWORD" in missing.stderr
    assert "Traceback" not in missing.stderr

    port = free_port()
    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker.cli",
            "web",
            "--config",
            str(kept / "config"),
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        scrape = httpx.get(f"{base}/metrics", auth=AUTH, timeout=30)
        api = {
            path: httpx.get(base + path, auth=AUTH, timeout=30).json()
            for path in (
                "/api/alerts",
                "/api/feeds",
                f"/api/topics/{TOPIC}/figures",
                f"/api/topics/{TOPIC}/documents?limit=500",
            )
        }
    finally:
        web.terminate()
        web.wait(60)
        log.close()

    assert scrape.headers["content-type"].startswith("text/plain")
    metrics = samples(scrape.text)
    corpus = kept / "data" / "corpus" / TOPIC
    written = len(list(corpus.glob("*.txt")))
    assert metrics[("newswatch_documents_total", ())] == written
    assert metrics[("newswatch_corpus_documents", (("topic", TOPIC),))] == written + 1  # + seed
    for kind in set(printed):
        assert metrics[("newswatch_alerts_total", (("type", kind),))] == printed.count(kind)
    assert metrics[
        ("newswatch_deliveries", (("channel", "demo-webhook"), ("state", "delivered")))
    ] == len(printed)
    outcomes = sum(
        v for (name, _), v in metrics.items() if name == "newswatch_entry_outcomes_total"
    )
    assert metrics[("newswatch_entries_total", ())] == outcomes > 0
    assert metrics[("newswatch_polls_total", (("status", "changed"),))] >= 3  # 3 feeds, round 1
    for queue in ("newswatch", "newswatch.io"):
        assert metrics[("newswatch_queue_depth", (("queue", queue),))] == 0
    # Every entry handed on was processed by a task (a batch of one feed's entries) whose
    # duration was recorded.
    batches = metrics[
        ("newswatch_task_duration_seconds_count", (("task", "newswatch.process_entries"),))
    ]
    assert 0 < batches <= outcomes
    assert metrics[
        ("newswatch_task_duration_seconds_count", (("task", "newswatch.deliver"),))
    ] == len(printed)
    # And each waited in its queue a measured time (publication to start).
    assert (
        metrics[("newswatch_task_wait_seconds_count", (("task", "newswatch.process_entries"),))]
        == batches
    )
    assert (
        metrics[("newswatch_task_wait_seconds_sum", (("task", "newswatch.process_entries"),))] > 0
    )

    alerts = api["/api/alerts"]
    assert sorted(a["type"] for a in alerts) == sorted(printed)
    assert all(
        d["state"] == "delivered" and d["attempts"] == 1 for a in alerts for d in a["deliveries"]
    )
    troops = next(
        f for f in api[f"/api/topics/{TOPIC}/figures"] if f["figure"]["id"] == "nk_troops_in_russia"
    )
    changed = [
        a
        for a in alerts
        if a["type"] == "figure.changed" and a["event"]["figure"]["id"] == "nk_troops_in_russia"
    ]
    latest = max(changed, key=lambda a: a["event"]["current"]["value"])
    assert troops["figure"]["current"]["value"] == latest["event"]["current"]["value"]
    assert troops["points"][-1]["document"]["id"] == latest["event"]["current"]["document"]["id"]
    documents = api[f"/api/topics/{TOPIC}/documents?limit=500"]
    assert documents["total"] == written + 1
    assert {d["file"] for d in documents["documents"]} >= {p.name for p in corpus.glob("*.txt")}
    assert [f["entries_seen"] > 0 for f in api["/api/feeds"]] == [True] * len(api["/api/feeds"])

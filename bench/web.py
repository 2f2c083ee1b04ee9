"""Web view page loads for a topic of 10,000 documents and 1,000 figure readings.

A corpus folder of 10,000 generated documents with their manifest, a figure history of
1,000 steps (and readings held unconfirmed), 1,000 alerts with their deliveries, in a
real Redis; `newswatch web` serving them as its own process. Measured: building the
search index from the folder, bringing it up to date after 10 more documents, and each
main page's response (HTML, or JSON for the API and /metrics) over a kept-alive
connection, median and p95 of repeated loads; with Debian's chromium present, also the
browser's whole load (navigation start to the load event, scripts and chart included).
"""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.common import ROOT, median, percentile, write_result
from worker.alerts import Delivery
from worker.alerts.events import figure_changed
from worker.articles.corpus import ManifestRecord, document_id, file_name, text_sha256
from worker.config import load_config
from worker.signals.changes import DocumentRef, FigureReading, FigureState, FigureStep
from worker.store import Store, connect
from worker.store.embedded import free_port, start_redis
from worker.web import make_desk

TOPIC = "nk-troops-russia"
FIGURE = "nk_troops_in_russia"
AUTH = ("bench", "bench-password")
# Words for generated text: the story's vocabulary and filler, none of it an article's.
WORDS = (
    "troops soldiers Russia Kursk region North Korean Pyongyang Moscow officials said "
    "deployment border training units artillery shells drones front village river winter "
    "analysts estimate intelligence report satellite images convoy rail camp command "
    "ministry statement reporters briefing talks sanctions envoy allies week month "
    "the a of in on to and with from by near after before about more than at least"
).split()


# Rarer words (made-up names of places and people), one word in ten: a query of common
# words matches nearly every document, one of these a few hundred.
RARE = [a + b + c for a in ("ka", "lo", "mi", "su", "te", "vo") for b in ("ran", "del", "mok",
        "pis", "tur", "gen") for c in ("ovo", "ask", "ino", "ets", "ura")]  # fmt: skip


def sentence(rng: random.Random) -> str:
    words = [
        rng.choice(RARE) if rng.random() < 0.1 else rng.choice(WORDS)
        for _ in range(rng.randint(10, 22))
    ]
    if rng.random() < 0.3:
        words.insert(rng.randint(0, len(words)), f"{rng.randint(1, 60) * 500:,}")
    return " ".join(words).capitalize() + "."


def write_corpus(corpus: Path, first: int, count: int, rng: random.Random) -> list[str]:
    """`count` documents from sequence number `first`, with their manifest lines."""
    corpus.mkdir(parents=True, exist_ok=True)
    lines, ids = [], []
    for sequence in range(first, first + count):
        url = f"https://wire.example/{sequence}"
        doc_id = document_id(url)
        text = "\n".join(
            " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))
            for _ in range(rng.randint(4, 8))
        )
        name = file_name(sequence, doc_id)
        (corpus / name).write_text(text, encoding="utf-8")
        day = 1 + sequence % 28
        record = ManifestRecord(
            file=name, id=doc_id, url=url, canonical_url=url,
            title=" ".join(rng.choice(WORDS) for _ in range(6)).capitalize(),
            source=f"outlet-{sequence % 40}.example", feed=None,
            published=f"2024-{1 + sequence % 12:02d}-{day:02d}T08:00:00+00:00",
            fetched="2024-12-31T00:00:00Z", language="en", sha256=text_sha256(text),
        )  # fmt: skip
        lines.append(record.to_json() + "\n")
        ids.append(doc_id)
    with (corpus / "manifest.jsonl").open("a", encoding="utf-8") as stream:
        stream.writelines(lines)
    return ids


def fill_store(store: Store, config: Any, doc_ids: list[str], readings: int) -> None:
    """A figure history of `readings` steps, five readings held, and an alert per step."""
    settings = config.topics[TOPIC].figures[FIGURE]
    steps, previous = [], None
    start = 1_700_000_000
    for n in range(readings):
        published = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(start + n * 3600))
        reading = FigureReading(
            value=1000 + n * 10, upper=1000 + n * 10 + 50 if n % 10 == 0 else None,
            qualifier="about" if n % 3 else "exact",
            quote=f"About {1000 + n * 10:,} North Korean troops are in Russia, officials said.",
            document=DocumentRef(id=doc_ids[n], file=f"{n:03d}_{doc_ids[n]}.txt",
                                 url=f"https://wire.example/{n}", title=f"Report {n}",
                                 source=f"outlet-{n % 40}.example", published=published,
                                 date_source="feed", language="en"),
            sources=(f"outlet-{n % 40}.example",), documents=(doc_ids[n],),
        )  # fmt: skip
        steps.append(FigureStep(reading=reading, previous=previous.value if previous else None))
        event = figure_changed(TOPIC, FIGURE, settings, previous, reading)
        store.save_event(event)
        store.save_delivery(
            event.id, "desk-webhook",
            Delivery(state="delivered" if n % 7 else "retrying", attempts=1 + n % 3,
                     last_error=None if n % 7 else "HTTP 503 from hooks.example",
                     updated=time.time()),
        )  # fmt: skip
        previous = reading
    held = tuple(
        steps[-1].reading.model_copy(update={"value": 50_000 + n, "upper": None}) for n in range(5)
    )
    store.save_figure_history(TOPIC, FIGURE, steps)
    store.save_figure(TOPIC, FIGURE, FigureState(confirmed=steps[-1].reading, unconfirmed=held))


def write_config(folder: Path, corpus: Path) -> Path:
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    topic = yaml.safe_load((ROOT / "config" / "topics" / f"{TOPIC}.yaml").read_text())
    topic.update({"seeds": None, "corpus": str(corpus)})
    (config / "topics" / f"{TOPIC}.yaml").write_text(yaml.safe_dump(topic))
    (config / "newswatch.yaml").write_text(yaml.safe_dump({"data_dir": str(folder / "data")}))
    (config / "feeds.yaml").write_text(
        yaml.safe_dump(
            {
                "feeds": [
                    {"url": f"https://outlet-{n}.example/feed", "topics": [TOPIC]}
                    for n in range(40)
                ]
            }
        )
    )
    secret = "whsec_" + base64.b64encode(b"0" * 24).decode()
    (config / "alerts.yaml").write_text(yaml.safe_dump({
        "channels": {"desk-webhook": {"type": "webhook", "url": "https://hooks.example/n",
                                      "secret": secret}},
        "routes": [{"channels": ["desk-webhook"]}]}))  # fmt: skip
    return config


def timed(client: httpx.Client, path: str, repeats: int) -> dict[str, Any]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return {
        "ms_median": round(median(times), 1),
        "ms_p95": round(percentile(times, 0.95), 1),
        "bytes": len(response.content),
    }


def browser_loads(base: str, paths: dict[str, str], repeats: int) -> dict[str, Any]:
    """Navigation start to load event in headless Chromium (chart drawn by then)."""
    from tests.support import chromium_paths

    if chromium_paths() is None:
        return {}
    from tests.support import chromium

    found: dict[str, Any] = {}
    with chromium(AUTH) as browser:
        for name, path in paths.items():
            times = []
            for _ in range(repeats):
                browser.get(base + path)
                times.append(browser.execute_script(
                    "const n = performance.getEntriesByType('navigation')[0];"
                    "return n.loadEventEnd - n.startTime;"))  # fmt: skip
            found[name] = {"ms_median": round(median(times), 1),
                           "ms_p95": round(percentile(times, 0.95), 1)}  # fmt: skip
    return found


def main(documents: int = 10_000, readings: int = 1_000, repeats: int = 40) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="newswatch-web-bench-"))
    corpus = folder / "corpus"
    rng = random.Random(16)
    started = time.perf_counter()
    doc_ids = write_corpus(corpus, 1, documents, rng)
    print(f"web: {documents:,} documents written in {time.perf_counter() - started:.1f} s")
    redis_server = start_redis(folder / "redis", append_only=False)
    config_dir = write_config(folder, corpus)
    config = load_config(config_dir)
    store = Store(connect(redis_server.url))
    fill_store(store, config, doc_ids, readings)

    desk = make_desk(config, redis_server.url)
    started = time.perf_counter()
    desk.refresh_index(config.topics[TOPIC])
    build_s = time.perf_counter() - started
    write_corpus(corpus, documents + 1, 10, rng)
    started = time.perf_counter()
    desk.refresh_index(config.topics[TOPIC])
    incremental_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    desk.refresh_index(config.topics[TOPIC])
    unchanged_ms = (time.perf_counter() - started) * 1000
    index_mb = desk.index.path.stat().st_size / 1e6
    desk.index.close()

    port = free_port()
    env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_server.url,
           "NEWSWATCH_WEB_USER": AUTH[0], "NEWSWATCH_WEB_PASSWORD": AUTH[1]}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "web", "--config", str(config_dir),
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    some = doc_ids[len(doc_ids) // 2]
    pages = {
        "overview": "/",
        "topic (figure charts)": f"/topics/{TOPIC}",
        "figure (1,000-row history)": f"/topics/{TOPIC}/figures/{FIGURE}",
        "corpus list": f"/topics/{TOPIC}/documents",
        "corpus search": f"/topics/{TOPIC}/documents?q=kursk+artillery",
        "corpus search, a rare word": f"/topics/{TOPIC}/documents?q={RARE[7]}",
        "document": f"/topics/{TOPIC}/documents/{some}",
        "alerts": "/alerts",
        "feeds": "/feeds",
        "api figures": f"/api/topics/{TOPIC}/figures",
        "api search": f"/api/topics/{TOPIC}/documents?q=convoy",
        "metrics": "/metrics",
    }
    try:
        with httpx.Client(base_url=base, auth=AUTH, timeout=60) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            for path in pages.values():  # warm: templates compiled, caches filled
                client.get(path).raise_for_status()
            served = {name: timed(client, path, repeats) for name, path in pages.items()}
            search = client.get(pages["api search"]).json()["total"]
            client_hits = client.get(f"/api/topics/{TOPIC}/documents?q={RARE[7]}").json()["total"]
        browser = browser_loads(
            base, {k: pages[k] for k in ("topic (figure charts)", "figure (1,000-row history)",
                                         "corpus search")}, repeats=15)  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)
        redis_server.stop()
    html = [v["ms_median"] for k, v in served.items() if not k.startswith(("api", "metrics"))]
    rare = client_hits
    figures = {
        "documents": documents,
        "figure_readings": readings,
        "alerts": readings,
        "index_build_s": round(build_s, 2),
        "index_mb": round(index_mb, 1),
        "index_refresh_10_new_ms": round(incremental_ms, 1),
        "index_refresh_unchanged_ms": round(unchanged_ms, 2),
        "search_hits_common_word": search,
        "search_hits_rare_word": rare,
        "repeats": repeats,
        "pages": served,
        "browser": browser,
        "slowest_page_ms_median": max(html),
    }
    for name, row in served.items():
        print(f"  {name:30s} {row['ms_median']:7.1f} ms median  {row['ms_p95']:7.1f} ms p95"
              f"  {row['bytes']:>9,} bytes")  # fmt: skip
    for name, row in browser.items():
        print(f"  browser: {name:21s} {row['ms_median']:7.1f} ms median (load event)")
    print(f"web: index of {documents:,} documents built in {build_s:.1f} s ({index_mb:.0f} MB);"
          f" 10 new read in {incremental_ms:.0f} ms; an unchanged check {unchanged_ms:.2f} ms")  # fmt: skip
    write_result("web", figures)
    return figures


if __name__ == "__main__":
    json.dumps(main())

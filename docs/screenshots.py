"""Makes the web view's screenshots in docs/: runs the demo, serves what it kept with
`newswatch web`, and photographs each main page in headless Chromium.

.venv/bin/python -m docs.screenshots
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.support import chromium
from worker.store.embedded import free_port

DOCS = Path(__file__).resolve().parent
AUTH = ("desk", "screenshots")
TOPIC = "nk-troops-russia"


def add_later_readings(kept: Path) -> None:
    """Two readings after the demo's, so the chart shows a range (a band) and a far jump
    from one source (held unconfirmed): ingested into the demo's own Redis and corpus,
    their alert sent to the demo's webhook, which no longer answers."""
    from worker import pipeline
    from worker.articles import Document
    from worker.articles.corpus import document_id
    from worker.config import load_config

    config = load_config(kept / "config")
    redis_url = (config.data_dir / "redis" / "url").read_text().strip()
    rt = pipeline.Runtime(config, redis_url)
    now = datetime.now(UTC)
    for hours, url, title, text in (
        (
            1,
            "https://analysts.example/range",
            "Analysts: 12,500 to 13,000",
            "Between 12,500 and 13,000 North Korean troops are now in Russia, analysts estimate.",
        ),
        (
            2,
            "https://blog.example/claim",
            "A blogger's claim",
            "A blogger claims 40,000 North Korean troops are now in Russia.",
        ),
    ):
        result = pipeline.process_document(
            rt,
            Document(
                id=document_id(url),
                url=url,
                canonical_url=url,
                title=title,
                text=text,
                published=now + timedelta(hours=hours),
                language="en",
                source=url.split("/")[2],
                date_source="feed",
            ),
            [TOPIC],
            None,
        )
        for event in result.events:
            # The demo's receiver has stopped: the alert log shows a delivery retrying.
            pipeline.deliver_now(rt, event)


def main() -> None:
    kept = Path(tempfile.mkdtemp(prefix="newswatch-screenshots-")) / "demo"
    subprocess.run(
        [sys.executable, "-m", "worker.cli", "demo", "--keep", str(kept)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    env = {**os.environ, "NEWSWATCH_WEB_USER": AUTH[0], "NEWSWATCH_WEB_PASSWORD": AUTH[1]}
    env.pop("NEWSWATCH_REDIS_URL", None)
    server = subprocess.Popen(
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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        add_later_readings(kept)
        search = httpx.get(
            f"{base}/api/topics/{TOPIC}/documents", params={"q": "Kursk"}, auth=AUTH, timeout=30
        ).json()
        document = search["documents"][0]["id"]
        pages = {
            "web-overview": "/",
            "web-topic": f"/topics/{TOPIC}",
            "web-figure": f"/topics/{TOPIC}/figures/nk_troops_in_russia",
            "web-alerts": "/alerts",
            "web-feeds": "/feeds",
            "web-search": f"/topics/{TOPIC}/documents?q=Kursk",
            "web-document": f"/topics/{TOPIC}/documents/{document}",
        }
        with chromium(AUTH, width=1200, height=860) as browser:
            for name, path in pages.items():
                browser.get(base + path)
                time.sleep(0.5)  # the charts draw after load
                browser.save_screenshot(str(DOCS / f"{name}.png"))
                print(f"docs/{name}.png ← {path}")
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()

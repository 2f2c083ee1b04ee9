"""The whole slice through real parts: `newswatch poll --once` (a real Celery worker on a
real Redis) against a loopback feed server, delivering to a Standard Webhooks verifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.alerts.conftest import SECRET
from tests.support import DATA, SEED, write_config
from worker.demo.servers import LoopbackServer, WebhookReceiver

pytestmark = pytest.mark.integration

ARTICLE = """<html lang="en"><head><meta charset="utf-8"><title>Seoul: 12,000 troops</title>
<link rel="canonical" href="/world/seoul-12000?utm_source=rss"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav><article>
<h1>Seoul says North Korea has sent 12,000 troops to Russia</h1><div class="byline">By Staff</div>
<p>South Korea's intelligence service says North Korea has sent about 12,000 troops to Russia.</p>
<p>The service told lawmakers that the soldiers are deployed in the Kursk region and that more could follow next year.</p>
<p>Read more: How North Korea's army compares with Russia's</p>
<p>NATO said the deployment marked a dangerous expansion of Russia's war against Ukraine.</p>
</article><footer>© 2024 Global Wire</footer></body></html>"""


EMPTY_FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Global Wire</title><link>http://127.0.0.1/</link></channel></rss>"""


def feed(base: str) -> str:
    # Seoul's article is published now: an entry older than the topic's max_age never alerts.
    now = format_datetime(datetime.now(UTC))
    return f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
<title>Global Wire</title><link>{base}/</link>
<item><title>NATO confirms</title><link>{base}/id/nato-konfirmasi</link><guid>g-1</guid>
<pubDate>Mon, 28 Oct 2024 07:05:11 GMT</pubDate></item>
<item><title>Seoul: 12,000</title><link>{base}/world/seoul-12000</link><guid>g-2</guid>
<pubDate>{now}</pubDate></item>
<item><title>Weather</title><link>{base}/weather</link><guid>g-3</guid>
<pubDate>Tue, 10 Dec 2024 07:45:00 GMT</pubDate><description>Rain all week in Jakarta, with
floods expected in the lowlands and schools closed on Thursday and Friday across the city,
the agency said in a statement on Monday evening.</description></item>
</channel></rss>"""


def run_cli(
    *arguments: str, env: dict[str, str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def world(tmp_path: Path, redis_url: str):
    from standardwebhooks.webhooks import Webhook

    verifier = Webhook(SECRET)
    with (
        LoopbackServer() as site,
        WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver,
    ):
        site.serve("/feed", EMPTY_FEED, "application/rss+xml")
        # The seed itself, wrapped as an Indonesian news page: an exact duplicate of a seed.
        site.serve("/id/nato-konfirmasi", (DATA / "pages" / "seed_wrapped.html").read_bytes())
        site.serve("/world/seoul-12000", ARTICLE)
        site.serve("/weather", "<html><body><p>Rain.</p></body></html>")
        config = write_config(
            tmp_path,
            feeds=[
                {"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], "name": "Global Wire"}
            ],
            channels={"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        # The first poll of a feed is its silent baseline; what it lists afterwards is news.
        assert run_cli("poll", "--once", env=env).returncode == 0
        site.serve("/feed", feed(site.base), "application/rss+xml")
        yield tmp_path, config, env, site, receiver


def test_poll_once_writes_documents_and_delivers_a_verified_webhook(world) -> None:
    folder, config, env, site, receiver = world
    result = run_cli("poll", "--once", env=env)
    assert result.returncode == 0, result.stderr
    assert "polled 1 feed(s): 1 changed" in result.stdout
    assert "documents: 1 written" in result.stdout and "1 duplicates" in result.stdout
    assert "1 off topic" in result.stdout or "1 without text" in result.stdout

    corpus = folder / "corpus"
    [document] = sorted(corpus.glob("*.txt"))
    assert document.name.startswith("001_") and len(document.stem.split("_")[1]) == 16
    text = document.read_text(encoding="utf-8")
    assert text.split("\n") == [
        "South Korea's intelligence service says North Korea has sent about 12,000 troops to "
        "Russia.",
        "The service told lawmakers that the soldiers are deployed in the Kursk region and "
        "that more could follow next year.",
        "NATO said the deployment marked a dangerous expansion of Russia's war against Ukraine.",
    ]
    records = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text().splitlines()]
    copy = next(r for r in records if r.get("duplicate_of"))
    assert copy["duplicate_of"] == SEED.stem.split("_")[1] and copy["file"] is None
    new = next(r for r in records if r["file"] == document.name)
    assert new["canonical_url"] == f"{site.base}/world/seoul-12000"
    assert new["language"] == "en" and new["source"] == "Global Wire"

    assert receiver.rejected == []
    [event] = [e for e in receiver.events if e["type"] == "figure.changed"]
    assert event["figure"]["id"] == "nk_troops_in_russia"
    assert (event["previous"]["value"], event["current"]["value"]) == (10000, 12000)
    assert event["current"]["document"]["file"] == document.name


def test_a_second_poll_hands_off_nothing_twice(world) -> None:
    folder, config, env, site, receiver = world
    assert run_cli("poll", "--once", env=env).returncode == 0
    second = run_cli("poll", "--once", env=env)
    assert second.returncode == 0, second.stderr
    assert "entries: 0 new" in second.stdout
    assert len(list((folder / "corpus").glob("*.txt"))) == 1
    assert len(receiver.events) == len({e["id"] for e in receiver.events})


def test_feeds_list_figures_and_alerts_commands(world) -> None:
    folder, config, env, site, receiver = world
    assert run_cli("poll", "--once", env=env).returncode == 0
    feeds = run_cli("feeds", "list", env=env)
    assert "entries seen: 3" in feeds.stdout and "last success" in feeds.stdout
    figures = run_cli("figures", "nk-troops-russia", env=env)
    assert "North Korean troops in Russia: about 12,000" in figures.stdout
    alerts = run_cli("alerts", env=env)
    assert "hook: delivered (attempts 1)" in alerts.stdout

"""Day one of a new topic (issue 12): what its feed already lists is the baseline and
alerts nobody; what is published afterwards alerts; `--dry-run` prints and sends nothing.
Real parts: `newswatch poll --once` with real Celery workers and Redis, a loopback news
site, and a webhook receiver verifying every signature."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.alerts.conftest import SECRET
from tests.conftest import write_config
from tests.integration.test_slice import run_cli
from worker.config import load_config
from worker.demo.servers import LoopbackServer, WebhookReceiver

pytestmark = pytest.mark.integration

CITIES = ["Kursk", "Vladivostok", "Khabarovsk", "Rostov", "Belgorod"]


def page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def backlog_article(n: int) -> tuple[str, list[str]]:
    """The n-th of the feed's 50 entries already there on day one: each would alert."""
    troops = 10_000 + 100 * n
    city = CITIES[n % len(CITIES)]
    return (
        f"Report {n}: {troops:,} North Korean troops in Russia",
        [
            f"Officials in Seoul said on day {n} of the deployment that {troops:,} North Korean "
            f"troops are now stationed in Russia, with a new unit reported near {city}.",
            f"Analysts number {n} in the series compared satellite images of rail yards and "
            "training grounds where the soldiers are said to be quartered for the winter.",
        ],
    )


def rss(base: str, items: list[tuple[str, str, datetime]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{path}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate></item>"
        for title, path, when in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Wire</title><link>{base}/</link>{body}</channel></rss>"
    )


@pytest.fixture
def newsroom(tmp_path: Path, redis_url: str):
    from standardwebhooks.webhooks import Webhook

    verifier = Webhook(SECRET)
    with (
        LoopbackServer() as site,
        WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver,
    ):
        # A new topic: no seeds, nothing held; the feed's backlog is all it knows. Every
        # reading counts (tolerance 0), so the baseline is the backlog's largest number.
        topic = load_config(write_config(tmp_path)).topics["nk-troops-russia"]
        figures = {k: {**v.model_dump(), "tolerance": 0.0} for k, v in topic.figures.items()}
        config = write_config(
            tmp_path,
            feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], "name": "Wire"}],
            channels={"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}},
            topic_overrides={"seeds": None, "figures": figures},
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        yield site, receiver, env


def test_the_backlog_is_a_silent_baseline_and_news_after_it_alerts(newsroom) -> None:
    site, receiver, env = newsroom
    now = datetime.now(UTC)
    items = []
    for n in range(50):
        title, paragraphs = backlog_article(n)
        site.serve(f"/a/{n}", page(title, paragraphs))
        # Published over the last hours: recent, so only the baseline keeps them quiet.
        items.append((title, f"/a/{n}", now - timedelta(minutes=10 * (50 - n))))
    site.serve("/feed", rss(site.base, items), "application/rss+xml")

    first = run_cli("poll", "--once", env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "entries: 50 new" in first.stdout
    assert receiver.events == [] and receiver.rejected == []
    figures = run_cli("figures", env=env)
    assert "North Korean troops in Russia: 14,900" in figures.stdout  # set, silently

    # Afterwards: one new report, and one old article the feed only now lists.
    new = (
        "Seoul: 20,000 North Korean troops now in Russia",
        [
            "South Korea's intelligence service told lawmakers that 20,000 North Korean troops "
            "are now deployed in Russia, twice as many as in its first estimate.",
            "The lawmakers were told that rotations through the Far East continue every week.",
        ],
    )
    old = (
        "Archive: 16,000 North Korean troops said to be in Russia",
        [
            "An archived analysis said that 16,000 North Korean troops were in Russia, a "
            "figure published ten days ago that the feed lists only now.",
            "The archive entry was added to the feed when the site rebuilt its listings.",
        ],
    )
    site.serve("/b/new", page(*new))
    site.serve("/b/old", page(*old))
    items += [(new[0], "/b/new", now), (old[0], "/b/old", now - timedelta(days=10))]
    site.serve("/feed", rss(site.base, items), "application/rss+xml")
    second = run_cli("poll", "--once", env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "entries: 2 new" in second.stdout
    changed = [e for e in receiver.events if e["type"] == "figure.changed"]
    # The new report alerts; the old article (past max_age) raises nothing, whether it was
    # processed before the new one (moving the figure silently) or after it.
    [alert] = changed
    assert alert["current"]["value"] == 20000 and alert["previous"]["value"] in (14900, 16000)
    assert all(e["document"]["url"].endswith("/b/new") for e in receiver.events if "document" in e)

    # A dry run processes the next report and prints the alert it would send.
    dry = (
        "Kyiv: 25,000 North Korean troops in Russia",
        [
            "Ukraine's military intelligence said 25,000 North Korean troops are in Russia, "
            "including artillery crews that arrived by rail in the past fortnight.",
            "The figure could not be verified independently, the agency's spokesman said.",
        ],
    )
    site.serve("/c/dry", page(*dry))
    items.append((dry[0], "/c/dry", now + timedelta(minutes=1)))
    site.serve("/feed", rss(site.base, items), "application/rss+xml")
    delivered = len(receiver.events)
    third = run_cli("poll", "--once", "--dry-run", env=env, timeout=600)
    assert third.returncode == 0, third.stderr
    assert "would send" in third.stdout and "25,000 (was 20,000)" in third.stdout
    assert "to hook" in third.stdout and "none was" in third.stdout
    assert len(receiver.events) == delivered
    log = run_cli("alerts", env=env)
    assert "hook: dry_run" in log.stdout

"""`newswatch demo`: the whole pipeline offline, on loopback, in three rounds of news.

It serves three small news sites (RSS, Atom, JSON Feed; Indonesian and English) on the
seed's story, writes a config pointing at them, runs a real Redis and a real Celery
worker, polls, and prints each alert as its signed webhook arrives.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from worker.alerts.events import FigureChanged, from_payload, summary_line
from worker.demo.servers import LoopbackServer, WebhookReceiver, verify_signature
from worker.demo.site import Story, article_page, load_story, render_feed
from worker.errors import UsageError


def _seed_text() -> str:
    return resources.files("worker.demo").joinpath("seed.txt").read_text(encoding="utf-8")


def write_config(folder: Path, site: str, hook: str, secret: str, story: Story) -> Path:
    """A complete config folder for the demo (the example topic, feeds on loopback)."""
    config = folder / "config"
    (config / "topics").mkdir(parents=True, exist_ok=True)
    seeds = folder / "seeds"
    seeds.mkdir(exist_ok=True)
    (seeds / "000_f15ba8ca4d9a1e51.txt").write_text(_seed_text(), encoding="utf-8")
    topic = yaml.safe_load(
        resources.files("worker.demo").joinpath("topic.yaml").read_text(encoding="utf-8")
    )
    topic["seeds"] = str(seeds)
    topic["corpus"] = str(folder / "data" / "corpus" / topic["id"])
    (config / "topics" / f"{topic['id']}.yaml").write_text(
        yaml.safe_dump(topic, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    service = {
        "data_dir": str(folder / "data"),
        "allow_private_networks": True,
        "tick_interval": "2s",
        "fetch_timeout": "10s",
        # The three "sites" share one loopback host; real ones would not share a slot.
        "per_host_concurrency": len(story.feeds),
    }
    (config / "newswatch.yaml").write_text(yaml.safe_dump(service), encoding="utf-8")
    feeds = [
        {"url": f"{site}/{name}/feed", "name": meta["title"], "topics": [topic["id"]]}
        for name, meta in story.feeds.items()
    ]
    (config / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": feeds}, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    alerts = {
        "channels": {"demo-webhook": {"type": "webhook", "url": hook, "secret": secret}},
        "routes": [{"topics": ["*"], "events": ["*"], "channels": ["demo-webhook"]}],
    }
    (config / "alerts.yaml").write_text(yaml.safe_dump(alerts), encoding="utf-8")
    return config


def publish_round(server: LoopbackServer, story: Story, upto: int) -> None:
    """Serve every article released by round `upto` and the feeds listing them."""
    for name, meta in story.feeds.items():
        items = [a for a in story.articles if a.feed == name and a.round <= upto]
        content_type, body = render_feed(meta["format"], meta, items, server.base, f"/{name}/feed")
        server.serve(f"/{name}/feed", body, content_type)
        for article in items:
            server.serve(article.path(), article_page(article, meta["title"], meta["language"]))


def run_demo(keep: Path | None = None, echo: Callable[[str], Any] = print) -> list[dict[str, Any]]:
    """Run the demo; return the alerts received."""
    from worker import launcher
    from worker.config import load_config
    from worker.runs import poll_once

    if keep and keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        # A kept run's state would make this one a repoll of old news: no alert at all.
        raise UsageError(f"{keep}: not an empty folder; the demo starts from nothing")
    folder = keep.resolve() if keep else Path(tempfile.mkdtemp(prefix="newswatch-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    # Whole seconds: RSS dates carry none, so every feed of the demo dates alike.
    story = load_story().told_now(datetime.now(UTC).replace(microsecond=0))

    def show(payload: dict[str, Any]) -> None:
        event = from_payload(payload)
        echo(f"  ALERT {event.type}: {summary_line(event)}  [{event.id}]")
        if isinstance(event, FigureChanged):
            current = event.current
            echo(f"        “{current.quote}” — {current.document.source}")

    receiver = WebhookReceiver(lambda body, headers: verify_signature(secret, headers, body), show)
    try:
        with LoopbackServer() as site, receiver:
            config_dir = write_config(folder, site.base, receiver.url, secret, story)
            config = load_config(config_dir)
            echo(f"newswatch demo: sites on {site.base}, webhook receiver on {receiver.url}")
            echo(
                f"  config and corpus in {folder}"
                + ("" if keep else " (removed at the end; --keep DIR keeps them)")
            )
            with launcher.redis_for(config) as services:
                launcher.start_workers(services, config, quiet=True)
                for round_number in range(1, story.rounds + 1):
                    publish_round(site, story, round_number)
                    released = [a for a in story.articles if a.round == round_number]
                    echo(f"\nround {round_number}: {len(released)} new article(s) published")
                    for article in released:
                        echo(f"  + [{article.feed}] {article.title}")
                    stats = poll_once(config, services, timeout=180, echo=lambda _: None)
                    echo(
                        f"  polled: {stats.get('entries', 0)} new entries → "
                        f"{stats.get('documents', 0)} documents, {stats.get('copies', 0)} "
                        f"duplicates, {stats.get('off_topic', 0)} off topic"
                    )
                launcher.stop_children(services)
            corpus = config.corpus_dir(config.topics["nk-troops-russia"])
            files = sorted(p.name for p in corpus.glob("*.txt"))
            echo(f"\ncorpus {corpus}: {len(files)} document(s): {', '.join(files)}")
            echo(
                f"{len(receiver.events)} alert(s) received, every signature verified"
                + (f"; {len(receiver.rejected)} rejected" if receiver.rejected else "")
            )
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return receiver.events

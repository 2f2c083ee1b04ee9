"""`newswatch poll --once` ends by listing the alerts it raised and how each delivery ended,
in a real run as in a dry run; a dry run needs no alert secrets."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.conftest import SECRET
from tests.integration.test_slice import ARTICLE, EMPTY_FEED, feed, run_cli
from tests.support import DATA, ROOT, write_config
from worker.demo.servers import LoopbackServer, WebhookReceiver

pytestmark = pytest.mark.integration


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    """A news site whose feed lists nothing until a test publishes (its first poll is the
    feed's silent baseline), and an endpoint that is down (503)."""
    with LoopbackServer() as server:
        server.serve("/feed", EMPTY_FEED, "application/rss+xml")
        server.serve("/id/nato-konfirmasi", (DATA / "pages" / "seed_wrapped.html").read_bytes())
        server.serve("/world/seoul-12000", ARTICLE)
        server.serve("/weather", "<html><body><p>Rain.</p></body></html>")
        server.serve("/down", "", status=503)
        yield server


def publish(site: LoopbackServer) -> None:
    site.serve("/feed", feed(site.base), "application/rss+xml")


def alert_blocks(stdout: str) -> dict[str, list[str]]:
    """The summary's alerts: event id → its channels' lines."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in stdout.splitlines():
        if match := re.match(r"  (evt_\w+) ", line):
            current = blocks.setdefault(match.group(1), [])
        elif line.startswith("    ") and current is not None:
            current.append(line.strip())
    return blocks


def test_a_run_lists_the_alerts_it_sent_and_how_each_delivery_ended(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    from standardwebhooks.webhooks import Webhook

    verifier = Webhook(SECRET)
    with WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver:
        config = write_config(
            tmp_path,
            feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], "name": "Wire"}],
            channels={
                "hook": {"type": "webhook", "url": receiver.url, "secret": SECRET},
                "down": {"type": "webhook", "url": f"{site.base}/down", "secret": SECRET},
            },
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        baseline = run_cli("poll", "--once", env=env)
        assert baseline.returncode == 0, baseline.stderr
        assert "alerts: none raised" in baseline.stdout.splitlines()

        publish(site)
        result = run_cli("poll", "--once", env=env)
    assert result.returncode == 0, result.stderr
    received = {event["id"]: event for event in receiver.events}
    assert any(e["type"] == "figure.changed" for e in received.values())
    n = len(received)
    assert f"alerts: {n} raised; deliveries: {n} delivered, {n} retrying" in result.stdout
    blocks = alert_blocks(result.stdout)
    assert set(blocks) == set(received), result.stdout
    for event_id, lines in blocks.items():
        assert lines[0].startswith("down: retrying (attempts 1; next try 20"), lines
        assert lines[0].endswith(" — HTTP 503"), lines
        assert lines[1:] == ["hook: delivered (attempts 1)"]
    [figure] = [e for e in received.values() if e["type"] == "figure.changed"]
    assert (
        f"  {figure['id']} figure.changed: North Korean troops in Russia: about 12,000 "
        "(was about 10,000) [1 source]"
    ) in result.stdout.splitlines()


def test_a_dry_run_of_the_shipped_alerts_needs_no_secrets_and_lists_what_it_would_send(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    config = write_config(
        tmp_path,
        feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], "name": "Wire"}],
    )
    shutil.copy(ROOT / "config" / "alerts.yaml", config / "alerts.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALERT_", "SMTP_"))}
    env.update({"NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)})
    refused = run_cli("poll", "--once", env=env)
    assert refused.returncode == 2
    assert "ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET are not set" in refused.stderr

    assert run_cli("poll", "--once", "--dry-run", env=env).returncode == 0
    publish(site)
    result = run_cli("poll", "--once", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "none was" in result.stdout
    assert (
        "to desk-email, desk-webhook: figure.changed: North Korean troops in Russia: "
        "about 12,000 (was about 10,000) [1 source]"
    ) in result.stdout

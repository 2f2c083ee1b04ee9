"""Config changes reach running workers without a restart: a feed added while they run is
polled, an alert channel added is used, and a feed removed and added again is polled
again. Real workers and beat, the config files edited as a user would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from standardwebhooks.webhooks import Webhook

from tests.alerts.conftest import SECRET
from tests.integration.test_host_slots import feed
from tests.integration.test_redis_outage import documents, wait_for
from tests.integration.test_slice import run_cli
from tests.support import distinct_page, write_config
from worker import launcher, pipeline
from worker.config import load_config
from worker.demo.servers import LoopbackServer, WebhookReceiver
from worker.store import Store, connect

pytestmark = pytest.mark.integration
FAST = {
    "poll_interval": "1s",
    "min_poll_interval": "1s",
    "max_poll_interval": "2s",
    "tick_interval": "1s",
}


def test_feeds_and_channels_changed_while_running_take_effect(
    tmp_path: Path, redis_url: str
) -> None:
    services = launcher.Services(redis_url)
    verifier = Webhook(SECRET)
    with (
        LoopbackServer() as site,
        WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as receiver,
    ):
        for n in range(1, 5):
            site.serve(f"/a/{n}", distinct_page(n, troops=10_000 + 2_000 * n))
        site.serve("/one", feed(site.base, [1]), "application/rss+xml")
        site.serve("/two", feed(site.base, [2]), "application/rss+xml")
        config_dir = write_config(
            tmp_path,
            feeds=[{"url": f"{site.base}/one", "topics": ["nk-troops-russia"]}],
            service=FAST,
        )
        env = {
            **os.environ,
            "NEWSWATCH_REDIS_URL": redis_url,
            "NEWSWATCH_CONFIG_DIR": str(config_dir),
        }
        store = Store(connect(redis_url))
        two = pipeline.feed_id(f"{site.base}/two")
        try:
            launcher.start_workers(services, load_config(config_dir), quiet=True)
            launcher.start_beat(services, load_config(config_dir), quiet=True)
            assert wait_for(lambda: len(documents(tmp_path)) == 1, 120), "the first feed"

            # An alert channel and a feed added while everything runs.
            (config_dir / "alerts.yaml").write_text(
                yaml.safe_dump(
                    {
                        "channels": {
                            "hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}
                        },
                        "routes": [{"topics": ["*"], "events": ["*"], "channels": ["hook"]}],
                    }
                )
            )
            added = run_cli(
                "feeds", "add", f"{site.base}/two", "--topic", "nk-troops-russia", env=env
            )
            assert added.returncode == 0, added.stdout + added.stderr
            assert wait_for(lambda: len(documents(tmp_path)) == 2, 120), "the added feed"
            # What a feed lists when first polled is its baseline, never alerted: news
            # on the first feed is what reaches the added channel.
            site.serve("/one", feed(site.base, [1, 3]), "application/rss+xml")
            assert wait_for(lambda: len(documents(tmp_path)) == 3, 120), "news on the first feed"
            assert wait_for(
                lambda: any(e["type"] == "figure.changed" for e in receiver.events), 60
            ), "an alert through the added channel"

            # Removed: the workers stop polling it ...
            feeds_yaml = config_dir / "feeds.yaml"
            with_two = feeds_yaml.read_text()
            feeds_yaml.write_text(
                yaml.safe_dump(
                    {"feeds": [{"url": f"{site.base}/one", "topics": ["nk-troops-russia"]}]}
                )
            )
            assert wait_for(lambda: store.r.zscore("nw:due:feeds", two) is None, 60), (
                "the removed feed is still scheduled"
            )
            # ... and added again with news: polled again, never stranded.
            site.serve("/two", feed(site.base, [2, 4]), "application/rss+xml")
            feeds_yaml.write_text(with_two)
            assert wait_for(lambda: len(documents(tmp_path)) == 4, 120), "the re-added feed"
        finally:
            launcher.stop_children(services, timeout=10)
    listed = run_cli("feeds", "list", env=env).stdout
    assert "last success: never" not in listed, listed

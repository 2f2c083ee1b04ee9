"""`--dry-run`: everything is processed, every delivery is recorded as `dry_run`, nothing
is sent; the workers a dry `run` starts inherit it through their environment."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.alerts.conftest import SECRET, figure_event
from tests.support import write_config
from worker import launcher, pipeline
from worker.config import load_config
from worker.demo.servers import WebhookReceiver


def test_a_dry_run_records_deliveries_and_sends_nothing(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    config = load_config(
        write_config(
            tmp_path, channels={"hook": {"type": "webhook", "url": receiver.url, "secret": SECRET}}
        )
    )
    dry = replace(config, service=config.service.model_copy(update={"dry_run": True}))
    rt = pipeline.Runtime(dry, redis_url)
    event = figure_event()
    assert rt.store.save_event(event)
    assert pipeline.route_event(rt, event) == []  # nothing to schedule
    delivery = rt.store.delivery(event.id, "hook")
    assert delivery is not None and delivery.state == "dry_run"
    assert pipeline.deliver(rt, event.id, "hook").state == "skipped"
    assert receiver.events == []
    # Later, for real: `alerts --resend` sends what the dry run recorded.
    real = pipeline.Runtime(config, redis_url)
    assert pipeline.deliver(real, event.id, "hook").state == "delivered"
    assert [e["id"] for e in receiver.events] == [event.id]


def test_workers_of_a_dry_run_inherit_it(tmp_path: Path) -> None:
    directory = write_config(tmp_path)
    config = load_config(directory)
    dry = replace(config, service=config.service.model_copy(update={"dry_run": True}))
    env = launcher.Services("redis://127.0.0.1:1/0").environment(dry)
    assert env["NEWSWATCH_DRY_RUN"] == "true"
    assert load_config(directory, env=env).service.dry_run
    plain = launcher.Services("redis://127.0.0.1:1/0").environment(config)
    assert not load_config(directory, env=plain).service.dry_run

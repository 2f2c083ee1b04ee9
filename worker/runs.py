"""A run of `newswatch poll --once`: every feed polled once through the real task queue,
everything that follows waited for, and a summary of what it did."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from worker import launcher
from worker.alerts import Delivery
from worker.config import Config
from worker.errors import NewswatchError

if TYPE_CHECKING:
    from worker import pipeline


@dataclass(frozen=True)
class RaisedAlert:
    """An event raised during a run, and where each of its channels' deliveries stood at
    its end (`dry_run` for each in a dry run)."""

    event_id: str
    summary: str
    deliveries: dict[str, Delivery]


@dataclass(frozen=True)
class RunSummary:
    """What one run did, from the counts its tasks recorded, and the alerts it raised."""

    feeds: int
    pending: int
    counts: dict[str, int] = field(default_factory=dict)
    alerts: tuple[RaisedAlert, ...] = ()
    dry_run: bool = False

    def get(self, name: str, default: int = 0) -> int:
        return {"feeds": self.feeds, "pending": self.pending}.get(
            name, self.counts.get(name, default)
        )

    @property
    def polls(self) -> dict[str, int]:
        """Polls by status (`changed`, `not_modified`, `error`, …)."""
        prefix = "polls_"
        return {k.removeprefix(prefix): v for k, v in self.counts.items() if k.startswith(prefix)}


def poll_once(
    config: Config,
    services: launcher.Services,
    timeout: float,
    echo: Callable[[str], Any] = print,
    dry_run: bool = False,
) -> RunSummary:
    """Enqueue a poll of every feed and wait until everything that follows is done.

    With `dry_run`, what would be sent is printed and nothing is sent.
    """
    if not config.feeds:
        # Nothing to poll, so nothing follows: no worker to wait for or start.
        echo("newswatch: no feeds are configured (config/feeds.yaml)")
        return RunSummary(feeds=0, pending=0)
    from worker import pipeline, tasks

    rt = _with_workers(config, services, echo)
    run_id = uuid.uuid4().hex[:12]
    started = time.time()
    if dry_run:
        rt.store.mark_dry_run(run_id)
    pipeline.sync_feeds(rt)
    for feed in config.feeds:
        tasks.send(tasks.poll_feed, pipeline.feed_id(feed.url), run=run_id)
    return _wait(rt, run_id, len(config.feeds), timeout, echo, started, dry_run)


def retry_failures(
    config: Config,
    services: launcher.Services,
    timeout: float,
    echo: Callable[[str], Any] = print,
) -> RunSummary:
    """Hand every failed entry (retrying or parked) out again now; wait for each to end."""
    from worker import tasks

    rt = _with_workers(config, services, echo)
    run_id = uuid.uuid4().hex[:12]
    now = started = time.time()
    retried = rt.store.retry_failures(now)
    staged = rt.store.staged_entries(rt.store.claim_due("entries", now, rt.hand_off_lease))
    tasks.send_staged(rt, staged, run_id)
    echo(f"retrying {len(retried)} failed entr{'y' if len(retried) == 1 else 'ies'}")
    return _wait(rt, run_id, 0, timeout, echo, started)


def _with_workers(
    config: Config, services: launcher.Services, echo: Callable[[str], Any]
) -> pipeline.Runtime:
    """This process's runtime, with workers answering (started for the run if none do)."""
    from worker import pipeline, tasks

    rt = pipeline.Runtime(config, services.redis_url)
    tasks.use(rt)
    if not launcher.wait_for_worker(timeout=1.5):
        echo("newswatch: no workers are running; starting them for this run")
        launcher.start_workers(services, config, quiet=True)
        if not launcher.wait_for_worker(timeout=60):
            raise NewswatchError("the worker did not start within 60 s")
    return rt


def _wait(
    rt: pipeline.Runtime,
    run_id: str,
    feeds: int,
    timeout: float,
    echo: Callable[[str], Any],
    started: float,
    dry_run: bool = False,
) -> RunSummary:
    """Wait until every task of a run (its deliveries included) has ended; what it did."""
    deadline = time.monotonic() + timeout
    last = -1
    while (pending := rt.store.run_pending(run_id)) > 0 and time.monotonic() < deadline:
        if pending != last:
            echo(f"  … {pending} task(s) in progress")
            last = pending
        time.sleep(0.2)
    return RunSummary(
        feeds=feeds,
        pending=max(0, rt.store.run_pending(run_id)),
        counts=rt.store.stats(run_id),
        alerts=_raised_since(rt, started),
        dry_run=dry_run,
    )


def _raised_since(rt: pipeline.Runtime, since: float) -> tuple[RaisedAlert, ...]:
    """The events stored since `since`, oldest first, with their deliveries as they stand."""
    from worker.alerts.events import summary_line

    events = list(reversed(rt.store.recent_events(limit=10_000, since=since)))
    deliveries = rt.store.deliveries_of([event.id for event in events])
    return tuple(
        RaisedAlert(event.id, f"{event.type}: {summary_line(event)}", deliveries[event.id])
        for event in events
    )

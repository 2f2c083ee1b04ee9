"""A run of `newswatch poll --once`: every feed polled once through the real task queue,
everything that follows waited for, and a summary of what it did."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from worker import launcher
from worker.config import Config
from worker.errors import NewswatchError

if TYPE_CHECKING:
    from worker import pipeline


@dataclass(frozen=True)
class RunSummary:
    """What one run did, from the counts its tasks recorded."""

    feeds: int
    pending: int
    counts: dict[str, int] = field(default_factory=dict)

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
    summary = _wait(rt, run_id, len(config.feeds), timeout, echo)
    if dry_run:
        _print_dry_run(rt, started, echo)
    return summary


def retry_failures(
    config: Config,
    services: launcher.Services,
    timeout: float,
    echo: Callable[[str], Any] = print,
) -> RunSummary:
    """Hand every failed entry (retrying or parked) out again now; wait for each to end."""
    from worker import pipeline, tasks

    rt = _with_workers(config, services, echo)
    run_id = uuid.uuid4().hex[:12]
    now = time.time()
    retried = rt.store.retry_failures(now)
    for feed_key, raw in rt.store.staged_entries(
        rt.store.claim_due("entries", now, rt.hand_off_lease)
    ):
        entry, baseline = pipeline.staged_entry(raw)
        tasks.send(tasks.process_entry, feed_key, entry.to_json(), baseline, run=run_id)
    echo(f"retrying {len(retried)} failed entr{'y' if len(retried) == 1 else 'ies'}")
    return _wait(rt, run_id, 0, timeout, echo)


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
    rt: pipeline.Runtime, run_id: str, feeds: int, timeout: float, echo: Callable[[str], Any]
) -> RunSummary:
    """Wait until every task of a run has ended; what the run did."""
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
    )


def _print_dry_run(rt: pipeline.Runtime, since: float, echo: Callable[[str], Any]) -> None:
    from worker.alerts.events import channels_for, summary_line

    would = list(reversed(rt.store.recent_events(limit=10_000, since=since)))
    echo(f"dry run: {len(would)} alert(s) would be sent; none was")
    for event in would:
        channels = ", ".join(channels_for(event, rt.config.alerts)) or "no channel routed"
        echo(f"  would send {event.id} to {channels}: {summary_line(event)}")

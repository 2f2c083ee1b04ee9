"""Thin Celery tasks: take ids, call the pipeline, enqueue the next step. Nothing else.

Retry policy, time limits and acks are set once in `celery_app`. Every task is
idempotent: an entry is claimed before it is processed, events are stored once under a
stable id, and a delivery already made is not made again. An entry stays staged until its
task records how it ended, so a task lost for any reason is handed out again by the tick.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Task, current_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import before_task_publish, celeryd_after_setup, task_postrun, task_prerun

from worker import pipeline
from worker.alerts.events import AlertEvent
from worker.celery_app import (
    SOFT_LIMIT_SHARE,
    TICK,
    TRANSIENT_ERRORS,
    app,
    configure,
    redis_url_for,
)
from worker.config import config_stamp, default_config_dir, load_config, sending
from worker.errors import ConfigError
from worker.feeds import Entry
from worker.store import TaskMeasure

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

_runtime: pipeline.Runtime | None = None
_runtime_lock = threading.Lock()
# A child forked while another thread held it gets a lock of its own.
os.register_at_fork(after_in_child=lambda: globals().update(_runtime_lock=threading.Lock()))
# Set in a prefork worker before it forks: each child runs one task at a time, on one
# thread (its page fetches' threads never touch Redis).
_pool_child = False
# Seconds before `poll --once` tries a feed again whose host has no free slot.
HOST_BUSY_WAIT = 1.0
# Why an entry's attempt failed when its task ended without saying.
LOST_HOLDER = "its task ended without a result (killed by the hard time limit, or its worker died)"
# Feed polls claimed from the schedule in one call by the tick.
CLAIM_BATCH = 1000
# Seconds between two looks at the config files' modification times.
CONFIG_CHECK_EVERY = 1.0


def runtime() -> pipeline.Runtime:
    """The process's runtime, made again after a fork (prefork pool children) and when a
    config file has changed, so every worker takes up new feeds, topics and alerts."""
    global _runtime
    rt = _runtime
    fresh = rt is not None and time.monotonic() - rt.checked < CONFIG_CHECK_EVERY
    if rt is not None and fresh and rt.pid == os.getpid():
        return rt
    # One thread makes or reloads it: the poller's 16 threads, taking their first tasks
    # together, each loaded the config and made a runtime of its own (11 in a load run).
    with _runtime_lock:
        if _runtime is None or _runtime.pid != os.getpid():
            stamp = config_stamp(default_config_dir())
            config = load_config()
            _runtime = pipeline.Runtime(
                config, redis_url_for(config), stamp=stamp, one_thread=_pool_child
            )
        else:
            _runtime = _reloaded(_runtime)
        return _runtime


def _reloaded(rt: pipeline.Runtime) -> pipeline.Runtime:
    """`rt`, or a runtime on the config as it is now if its files changed."""
    now = time.monotonic()
    if now - rt.checked < CONFIG_CHECK_EVERY:
        return rt
    rt.checked = now
    directory = rt.config.directory
    stamp = config_stamp(directory)
    if stamp == rt.stamp:
        return rt
    rt.stamp = stamp  # an invalid change is reported once, not before every task
    try:
        config = load_config(directory)
    except ConfigError as error:
        log.error(
            "the config in %s changed but is invalid; still running on the previous one: %s",
            directory,
            "; ".join(error.problems),
        )
        return rt
    log.warning("config reloaded from %s", directory)
    return pipeline.Runtime(
        config, rt.redis_url, stamp=stamp, checked=now, one_thread=rt.one_thread
    )


@celeryd_after_setup.connect
def _load_before_fork(sender: Any = None, instance: Any = None, **_: Any) -> None:
    """A worker reads its config before it takes a task and refuses to start on one it
    cannot run (an invalid file, an alert channel whose variables are unset): one line per
    problem and exit status 2, its messages left queued for a worker that can, where
    starting would fail every task it took. A prefork worker then loads the article stage
    before it forks its pool, and removes the corpus drafts a stopped one left behind; the
    poller (threads) never processes an article and does neither."""
    try:
        config = load_config(require_channels=False)
        if not config.service.dry_run:
            sending(config)
    except ConfigError as error:
        for problem in error.problems:
            log.critical("%s", problem)
        log.critical("worker %s not started: its config cannot be run", sender or "")
        raise SystemExit(2) from None
    pool = getattr(instance, "pool_cls", None)
    if "prefork" in getattr(pool, "__module__", str(pool)):
        global _pool_child
        _pool_child = True
        pipeline.preload(pipeline.held_languages(config), list(config.topics.values()))
        pipeline.sweep_drafts(config)
        # Out of the collector's reach, so its passes in a child do not write to (and
        # copy) every page the parent loaded (the gc module's advice for fork servers).
        gc.freeze()


def use(rt: pipeline.Runtime) -> None:
    """Make `rt` this process's runtime (a process that sends tasks: the CLI, the demo)."""
    global _runtime
    if not rt.stamp:
        # Its config was read just now: left empty, the first look at the files would
        # take them for edited and reload (and log "config reloaded") for nothing.
        rt.stamp, rt.checked = config_stamp(rt.config.directory), time.monotonic()
    _runtime = rt
    configure(rt.config, rt.redis_url)


def tracked(function: F) -> F:
    """Count the task as finished in its `poll --once` run once it has an outcome."""

    @functools.wraps(function)
    def wrapper(*args: Any, run: str | None = None, **kwargs: Any) -> Any:
        try:
            result = function(*args, run=run, **kwargs)
        except TRANSIENT_ERRORS:
            task = current_task
            if task is not None and task.request.retries < task.max_retries:
                raise  # retried (NewswatchTask): the run is not finished yet
            if run:
                runtime().store.run_done(run)
            raise
        except Exception:
            if run:
                runtime().store.run_done(run)
            raise
        # Not on SystemExit or KeyboardInterrupt: the process is going away and the message
        # is delivered again (late ack), so the run is not finished yet.
        if run:
            runtime().store.run_done(run)
        return result

    return wrapper  # type: ignore[return-value]


def send(task: Task, *args: Any, run: str | None = None, countdown: float | None = None) -> None:
    if run:
        runtime().store.run_add(run)
    kwargs = {"run": run} if run else {}
    task.apply_async(
        args=args,
        kwargs=kwargs,
        countdown=countdown,
        argsrepr=brief(args),
        kwargsrepr=repr(kwargs),
    )


def brief(args: tuple[Any, ...]) -> str:
    """A task's arguments as its message's headers show them (Flower, `celery inspect`):
    each one's repr, a list as its length. Left to Celery, the entries of a batch were
    written out in pure Python (`saferepr`, up to 1 KB) for every message sent, more CPU
    than the rest of publishing it."""
    shown = [f"<{len(a)} items>" if isinstance(a, list) else repr(a)[:200] for a in args]
    return f"({', '.join(shown)}{',' if len(shown) == 1 else ''})"


@app.task(name=TICK, ignore_result=True)
def tick() -> dict[str, int]:
    """Enqueue due feed polls and delivery retries; send due digests."""
    rt = runtime()
    now = time.time()
    pipeline.sync_feeds(rt)
    lease = rt.hand_off_lease
    feeds = _hand_out_polls(rt, now)
    # Staged entries whose task was lost (a worker killed, Redis restarted under it) or
    # whose retry has come: handed out again from what is staged.
    entries = rt.store.staged_entries(rt.store.claim_due("entries", now, lease))
    send_staged(rt, entries, batch=1)
    # Events saved by a task lost before it routed them: their deliveries are recorded
    # and scheduled here (those already recorded are left to their own schedule).
    for event_id in rt.store.claim_due("routes", now, lease):
        pipeline.route_unrouted(rt, event_id, now)
    deliveries = rt.store.claim_due("deliveries", now, lease)
    for member in deliveries:
        event_id, channel = member.split("|", 1)
        send(deliver, event_id, channel)
    digests = pipeline.flush_digests(rt, now)
    # Every tick_interval, day and night: a line only when the tick did something.
    log.log(
        logging.INFO if feeds or entries or deliveries or digests else logging.DEBUG,
        "tick: %d feed(s) due, %d entry(ies) handed out again, %d delivery(ies) due, "
        "%d digest(s) sent",
        len(feeds),
        len(entries),
        len(deliveries),
        digests,
    )
    return {
        "feeds": len(feeds),
        "entries": len(entries),
        "deliveries": len(deliveries),
        "digests": digests,
    }


def _hand_out_polls(rt: pipeline.Runtime, now: float) -> list[str]:
    """Every feed poll that is due, `CLAIM_BATCH` claimed at a time, for at most half a
    tick: what is left (a very large backlog) is the next tick's."""
    handed: list[str] = []
    stop_at = time.monotonic() + rt.config.service.tick_interval / 2
    while True:
        feeds = rt.store.claim_due("feeds", now, rt.poll_lease, limit=CLAIM_BATCH)
        for feed_key in feeds:
            send(poll_feed, feed_key)
        handed += feeds
        if len(feeds) < CLAIM_BATCH or time.monotonic() > stop_at:
            return handed


@app.task(name="newswatch.poll_feed", ignore_result=True)
@tracked
def poll_feed(feed_key: str, run: str | None = None) -> dict[str, Any]:
    rt = runtime()
    result = pipeline.poll_feed(rt, feed_key)
    settings = rt.feed(feed_key)
    if result.status == "host_busy" and run:
        # `poll --once` polls every feed: this one waits its turn for the host's slot.
        send(poll_feed, feed_key, run=run, countdown=HOST_BUSY_WAIT)
        return {"feed": settings.url if settings else feed_key, "status": "host_busy"}
    # Entries stay staged until their task records how they ended: a poll killed before
    # sending them, or a task lost after, leaves them for the tick to hand out again.
    send_entries(
        rt, feed_key, [(entry, result.is_baseline(entry)) for entry in result.new_entries], run
    )
    for event in result.events:
        if rt.store.save_event(event):
            _route(rt, event, run)
    rt.store.add_counts({f"polls_{result.status}": 1, "entries": len(result.new_entries)}, run)
    return {
        "feed": settings.url if settings else feed_key,
        "status": result.status,
        "new_entries": len(result.new_entries),
        "error": result.error,
    }


def send_entries(
    rt: pipeline.Runtime,
    feed_key: str,
    entries: list[tuple[Entry, bool]],
    run: str | None,
    batch: int | None = None,
) -> None:
    """Hand a feed's entries (with their baseline flags) to `process_entries` tasks,
    `batch` (by default `entry_batch`) at a time, in the order given."""
    size = batch or rt.config.service.entry_batch
    for start in range(0, len(entries), size):
        chunk = entries[start : start + size]
        send(
            process_entries,
            feed_key,
            [entry.to_json() for entry, _ in chunk],
            [baseline for _, baseline in chunk],
            run=run,
        )


def send_staged(
    rt: pipeline.Runtime,
    staged: list[tuple[str, str]],
    run: str | None = None,
    batch: int | None = None,
) -> None:
    """Hand out staged entries again ((feed id, staged JSON) pairs), batched by feed. The
    tick re-hands them one per task: an entry whose task was lost may be what killed it,
    and takes no other entry down with it a second time."""
    by_feed: dict[str, list[tuple[Entry, bool]]] = {}
    for feed_key, raw in staged:
        by_feed.setdefault(feed_key, []).append(pipeline.staged_entry(raw))
    for feed_key, entries in by_feed.items():
        send_entries(rt, feed_key, entries, run, batch)


@app.task(name="newswatch.process_entries", ignore_result=True, bind=True)
@tracked
def process_entries(
    self: Task,
    feed_key: str,
    entries: list[dict[str, Any]],
    baselines: list[bool],
    run: str | None = None,
) -> list[dict[str, Any]]:
    """A batch of one feed's entries, one after the other, their pages fetched ahead.

    Each entry is claimed and recorded on its own: a batch retried or handed out again
    after its worker died skips the entries it had finished. A batch that has used half
    its soft time limit (a busy machine, slow sites) hands the rest on to a new task, so
    the limit stays a limit on one entry's work, not on a batch's."""
    rt = runtime()
    batch = [(Entry.from_json(e), flag) for e, flag in zip(entries, baselines, strict=True)]
    finished = rt.store.finished_entries([item.id for item, _ in batch])
    batch = [(item, flag) for item, flag in batch if item.id not in finished]
    budget = time.monotonic() + rt.config.service.task_time_limit * SOFT_LIMIT_SHARE / 2
    results = []
    with pipeline.PagePrefetch(rt, [item.link or "" for item, _ in batch]) as pages:
        for done, (item, baseline) in enumerate(batch):
            if done and time.monotonic() > budget:
                send_entries(rt, feed_key, batch[done:], run)
                break
            results.append(_process_one(self, rt, feed_key, item, baseline, run, pages))
    for item_id in finished:
        rt.store.finish_entry(feed_key, item_id)  # a second hand-off of a finished entry
    return results


@app.task(name="newswatch.process_entry", ignore_result=True, bind=True)
@tracked
def process_entry(
    self: Task,
    feed_key: str,
    entry: dict[str, Any],
    baseline: bool = False,
    run: str | None = None,
) -> dict[str, Any]:
    """One entry: what earlier versions sent (messages still queued across an upgrade)."""
    return _process_one(self, runtime(), feed_key, Entry.from_json(entry), baseline, run, None)


def _process_one(
    task: Task,
    rt: pipeline.Runtime,
    feed_key: str,
    item: Entry,
    baseline: bool,
    run: str | None,
    pages: pipeline.PagePrefetch | None,
) -> dict[str, Any]:
    """Claim one entry, process it, record how it ended (a failure for the tick to retry)."""
    token = task.request.id or item.id
    claim = rt.store.claim_entry(item.id, token, rt.entry_claim_ttl)
    if claim == "done":
        rt.store.finish_entry(feed_key, item.id)  # a second hand-off of a finished entry
        return {"entry": item.link, "status": "already processed"}
    if claim == "other":
        # Held by a task still running, or lost: then its claim runs out and the tick
        # hands the entry out again.
        return {"entry": item.link, "status": "held by another task"}
    if claim == "taken":
        # The task before this one died holding the entry: a failed attempt, so an entry
        # that kills its worker each time (the hard time limit) is parked, not retried
        # for ever; the entries it shared a batch with are not held up again.
        lost = pipeline.entry_failed(rt, feed_key, item, LOST_HOLDER)
        if lost.status == "parked":
            rt.store.add_counts(lost.counts(), run)
            return {"entry": item.link, "status": lost.status}
        # Recording the failure let go of the entry: this task holds it again to go on.
        if rt.store.claim_entry(item.id, token, rt.entry_claim_ttl) != "mine":
            return {"entry": item.link, "status": "held by another task"}
    settings = rt.feed(feed_key)
    topics = settings.topics if settings else list(rt.config.topics)
    try:
        result = pipeline.process_entry(rt, feed_key, item, topics, baseline=baseline, pages=pages)
    except SoftTimeLimitExceeded:
        # Where it was, for whoever reads the log: a slow site, a lock, a pathological page.
        log.warning("entry %s (%s) ran past the soft time limit", item.id, item.link, exc_info=True)
        rt.store.add_counts({"timeouts": 1}, run)
        if task.request.retries < task.max_retries:
            rt.store.release_entry(item.id)
            raise  # retried soon (NewswatchTask): a step that ran long may be load
        result = pipeline.entry_failed(rt, feed_key, item, "timed out")
    except TRANSIENT_ERRORS as error:
        if task.request.retries < task.max_retries:
            rt.store.release_entry(item.id)
            raise
        result = pipeline.entry_failed(rt, feed_key, item, _reason(error))
    except Exception as error:
        # Recorded, retried by the tick and finally parked: the task itself ends normally.
        log.exception("entry %s (%s) failed", item.id, item.link)
        result = pipeline.entry_failed(rt, feed_key, item, _reason(error))
    else:
        for event in result.events:
            _route(rt, event, run)
        # Its counts and run mark in the same trip.
        rt.store.finish_entry(feed_key, item.id, result.counts(), run)
        return _summary(item, result)
    rt.store.add_counts(result.counts(), run, mark="entries")
    return _summary(item, result)


def _summary(item: Entry, result: pipeline.EntryResult) -> dict[str, Any]:
    """What a processed entry's task returns (shown by Flower)."""
    return {
        "entry": item.link,
        "status": result.status,
        "documents": result.documents,
        "events": [e.id for e in result.events],
    }


def _reason(error: BaseException) -> str:
    """One line saying what went wrong, for the failure record."""
    text = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@app.task(name="newswatch.deliver", ignore_result=True)
@tracked
def deliver(event_id: str, channel: str, run: str | None = None) -> dict[str, Any]:
    outcome = pipeline.deliver(runtime(), event_id, channel)
    return {"event": event_id, "channel": channel, "state": outcome.state, "detail": outcome.detail}


# When each task in this process started, and how long it had waited, by task id: the
# histograms behind /metrics' task latency are kept in the store, so every worker counts.
_started: dict[str, tuple[float, float | None]] = {}


# Wall-clock time of publication, in each message's headers: the wait from publication
# to start (queue latency) is measured in whichever worker takes the task.
SENT_AT = "newswatch_sent_at"


@before_task_publish.connect
def _stamp_publication(headers: dict[str, Any], **_: Any) -> None:
    headers.setdefault(SENT_AT, time.time())


@task_prerun.connect
def _task_started(task_id: str, task: Task, **_: Any) -> None:
    sent_at = getattr(task.request, SENT_AT, None)
    wait = None if sent_at is None else time.time() - float(sent_at)
    _started[task_id] = (time.monotonic(), wait)


@task_postrun.connect
def _task_finished(task_id: str, task: Task, **_: Any) -> None:
    found = _started.pop(task_id, None)
    if found is None:
        return
    started, wait = found
    times: dict[TaskMeasure, float] = {"duration": time.monotonic() - started}
    if wait is not None:
        times["wait"] = wait
    try:
        runtime().store.record_task_times(task.name, times)
    except TRANSIENT_ERRORS as error:
        # A lost sample is no reason to fail a task that has done its work.
        log.warning("times of %s %s not recorded: %s", task.name, task_id, error)


def _route(rt: pipeline.Runtime, event: AlertEvent, run: str | None) -> None:
    dry_run = run is not None and rt.store.is_dry_run(run)
    for channel in pipeline.route_event(rt, event, dry_run=dry_run):
        # Scheduled first, so a delivery whose task is lost is retried by the tick.
        rt.store.schedule("deliveries", f"{event.id}|{channel}", time.time() + rt.hand_off_lease)
        send(deliver, event.id, channel, run=run)
    rt.store.routed(event.id)

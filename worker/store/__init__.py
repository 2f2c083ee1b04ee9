"""Everything that talks to Redis: the key schema is `keys.py`, the atomic steps `lua/`.

What is here is an index or a schedule; the durable record of documents is the corpus
folder and its manifest, from which `newswatch reindex` rebuilds the indexes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, cast

import redis

from worker.alerts import Delivery
from worker.alerts.events import AlertEvent, from_payload
from worker.articles.corpus import HeldDocument
from worker.signals.changes import FigureState, FigureStep
from worker.store import keys as keyspace

if TYPE_CHECKING:
    # Imported where used: the read-only commands load this module, and neither the
    # feeds stage (httpx, feedparser) nor numpy is needed to read Redis.
    import numpy as np

    from worker.feeds import FeedState


@dataclass(frozen=True)
class TopicView:
    """A topic's state as one document's ingestion needs it (`Store.topic_view`)."""

    ready: bool  # loaded: its seeds and corpus indexed
    held: HeldDocument | None  # the document held under the document's id
    same_text: str | None  # the id of a document with this very text
    candidates: frozenset[str]  # documents sharing a band bucket with it
    # Its number, handed out with the view when it is certainly new (lua/topic_view.lua);
    # None: `Store.next_sequence` gives it once it is known to be new.
    number: int | None = None


def _lua(name: str) -> str:
    """A script of `lua/`: each is one atomic step, its comment saying why it must be one."""
    return resources.files("worker.store").joinpath(f"lua/{name}.lua").read_text("utf-8")


log = logging.getLogger(__name__)

# What a caller outside the store catches to say "Redis is unreachable or refused".
STORE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError,)
# ... and to say "Redis is unreachable" (gone, restarting, or still loading its data):
# what may succeed when asked again.
STORE_UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
# How long a processed entry's claim refuses a second hand-off (seconds).
ENTRY_DONE_TTL = 14 * 86400
# How long an entry's claim is kept once taken (ms): long past its deadline, so the next
# hand-off of an entry whose task was killed holding it sees the takeover.
CLAIM_RECORD_MS = 7 * 86400 * 1000
ClaimOutcome = Literal["mine", "taken", "done", "other"]
# A source's line counter is aged past this many lines (lua/count_lines.lua) ...
LINES_KEPT = 5000
# ... and dropped when the source has had no document for this long (seconds).
LINES_TTL = 30 * 86400
# How long a `poll --once` run's keys are kept (seconds).
RUN_KEPT = 86400
# The most documents an LSH band bucket keeps (the newest); see _LSH_ADD.
BUCKET_CAPACITY = 32
# Seconds a task waiting for a topic's lock goes before asking again when no release woke
# it (its holder died, or another waiter took the wake-up), and how long a wake-up that
# no one took is kept (ms).
LOCK_RECHECK = 0.1
WAKE_UP_KEPT_MS = 1000
# Seconds between attempts at releasing a topic's lock while Redis is unreachable.
LOCK_RELEASE_RETRY = 0.5
# Figure history steps a process keeps parsed (frozen models, shared by every read), and
# the figures whose history it keeps.
STEPS_PARSED_KEPT = 50_000
HISTORIES_KEPT = 1_000
# The most history steps changed in place (LSET) rather than the history rewritten.
HISTORY_SETS = 8


@dataclass(frozen=True)
class _HeldHistory:
    """A figure's history as this process last read or wrote it: `version` is the token
    stored with it, `raw` each step's stored JSON."""

    version: str
    steps: list[FigureStep]
    raw: list[str]


def _history_change(old: list[str], new: list[str]) -> list[str] | None:
    """How `old` becomes `new` in place (history_update.lua's arguments), or None when it
    takes a rewrite."""
    if len(new) > len(old) and new[: len(old)] == old:
        return ["append", *new[len(old) :]]
    if len(new) != len(old):
        return None
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a is not b and a != b]
    if len(changed) > HISTORY_SETS:
        return None
    return ["set", *(x for i in changed for x in (str(i), new[i]))]


@dataclass(frozen=True)
class EntryFailure:
    """The last failed attempt at an entry: retried at `retry_at`, or parked (None)."""

    feed: str
    entry: str
    link: str | None
    reason: str
    attempts: int
    failed_at: float
    retry_at: float | None


# Seconds after which an event saved but not routed (its task was lost) is routed by the tick.
ROUTE_WITHIN = 60.0


# Upper bounds (seconds) of the task duration histogram's buckets, Prometheus's defaults
# widened to the minutes a slow fetch can take.
TASK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


TaskMeasure = Literal["duration", "wait"]
_TASK_HISTOGRAMS: dict[str, str] = {"duration": "latency", "wait": "task-wait"}


@dataclass(frozen=True)
class TaskDurations:
    """How many runs of a task fell in each bucket of `TASK_BUCKETS` (then +Inf), and their sum."""

    counts: tuple[int, ...]
    total_seconds: float


def _line_key(line: str) -> str:
    return hashlib.blake2b(line.casefold().encode("utf-8"), digest_size=8).hexdigest()


class _KeptConnection(redis.Redis):
    """A client that sends every command on one connection it keeps, where a pooled
    client takes a connection from its pool and checks it (a poll of the socket) for each
    command: that halves the client's CPU per command (redis-py 8). Only for a process
    that talks to Redis from one thread (a prefork child); pipelines still use the pool."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except redis.ResponseError:
            raise  # Redis refused the command: its reply was read whole
        except BaseException:
            # Interrupted between a command and its reply (a soft time limit's exception),
            # the reply may still arrive and be taken for the next command's. A pool makes
            # sure no connection it hands out has data waiting; a kept one is dropped, and
            # the next command connects again.
            if self.connection is not None:
                self.connection.disconnect()  # type: ignore[no-untyped-call]
            raise


def connect(url: str, *, one_thread: bool = False) -> redis.Redis:
    """A client for the Redis at `url`; `one_thread` when only one thread of the process
    uses it (see `_KeptConnection`)."""
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": 30,
        "socket_connect_timeout": 10,
        "health_check_interval": 30,
    }
    if one_thread:
        return _KeptConnection.from_url(url, single_connection_client=True, **options)
    return redis.Redis.from_url(url, **options)


def ping(url: str, timeout: float) -> str | None:
    """None when the Redis at `url` answers PING within `timeout` seconds, else why not."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


def _queue_counts(
    pipe: redis.client.Pipeline, counts: Mapping[str, int], run: str | None, mark: str | None
) -> bool:
    """Queue `Store.add_counts`'s commands on `pipe`; False when there is nothing to add."""
    counts = {name: amount for name, amount in counts.items() if amount}
    for name, amount in counts.items():
        pipe.hincrby(keyspace.STATS, name, amount)
        if run:
            pipe.hincrby(keyspace.run(run, "stats"), name, amount)
    if run and counts:
        pipe.expire(keyspace.run(run, "stats"), RUN_KEPT)
    if run and mark:
        _queue_mark(pipe, run, mark, time.time())
    return bool(counts) or bool(run and mark)


def _queue_mark(pipe: redis.client.Pipeline, run: str, name: str, when: float) -> None:
    key = keyspace.run(run, name)
    pipe.rpush(key, when)
    pipe.expire(key, RUN_KEPT)


class Store:
    """Typed access to newswatch's Redis keys."""

    def __init__(
        self,
        client: redis.Redis,
        bucket_capacity: int = BUCKET_CAPACITY,
        lines_kept: int = LINES_KEPT,
        lines_ttl: int = LINES_TTL,
    ) -> None:
        self.r = client
        self.bucket_capacity = bucket_capacity
        self.lines_kept = lines_kept
        self.lines_ttl = lines_ttl
        self._claim_due = client.register_script(_lua("claim_due"))
        self._next_sequence = client.register_script(_lua("next_sequence"))
        self._topic_view = client.register_script(_lua("topic_view"))
        self._lsh_add = client.register_script(_lua("lsh_add"))
        self._lsh_query = client.register_script(_lua("lsh_query"))
        self._count_lines = client.register_script(_lua("count_lines"))
        self._record_names = client.register_script(_lua("record_names"))
        self._seen_listed = client.register_script(_lua("seen_listed"))
        self._stage = client.register_script(_lua("stage"))
        self._claim_staged = client.register_script(_lua("claim_staged"))
        self._claim_entry = client.register_script(_lua("claim_entry"))
        self._host_slot = client.register_script(_lua("host_slot"))
        self._save_event = client.register_script(_lua("save_event"))
        self._history_update = client.register_script(_lua("history_update"))
        self._unlock = client.register_script(_lua("unlock"))
        self._claim_delivery = client.register_script(_lua("claim_delivery"))
        self._release_claim = client.register_script(_lua("release_claim"))
        self._join_digest = client.register_script(_lua("join_digest"))
        self._close_digest = client.register_script(_lua("close_digest"))
        # Figure history steps as parsed, by their stored JSON, and each history as last
        # read or written by this process, with its version (`figure_history`).
        self._steps: dict[str, FigureStep] = {}
        self._histories: dict[tuple[str, str], _HeldHistory] = {}

    # -- feeds ---------------------------------------------------------------------------
    def feed_state(self, feed_id: str) -> FeedState | None:
        from worker.feeds import FeedState

        raw = cast(str | None, self.r.get(keyspace.feed(feed_id)))
        if raw is None:
            return None
        data = json.loads(raw)
        if data.get("next_poll") is None:
            data["next_poll"] = float("inf")
        return FeedState(**data)

    def save_feed_state(self, feed_id: str, state: FeedState) -> None:
        data = asdict(state)
        if data["next_poll"] == float("inf"):
            data["next_poll"] = None
        pipe = self.r.pipeline()
        pipe.set(keyspace.feed(feed_id), json.dumps(data))
        if state.retired:
            pipe.zrem(keyspace.due("feeds"), feed_id)
        else:
            pipe.zadd(keyspace.due("feeds"), {feed_id: state.next_poll})
        pipe.execute()

    def register_feeds(self, feeds: dict[str, str]) -> int:
        """Schedule every configured feed (id → URL) that is not scheduled: new ones, and
        ones unscheduled while they were not configured. Retired feeds (HTTP 410) stay
        off. Returns how many were scheduled. One round trip when all are scheduled, as
        every tick calls it for every configured feed."""
        from worker.feeds import FeedState

        ids = list(feeds)
        if not ids:
            return 0
        scores = self.r.zmscore(keyspace.due("feeds"), ids)
        missing = [i for i, score in zip(ids, scores, strict=True) if score is None]
        scheduled = 0
        for feed_id in missing:
            state = self.feed_state(feed_id)
            if state is None:
                state = FeedState(url=feeds[feed_id], next_poll=time.time())
            elif state.retired:
                continue
            else:
                state = replace(state, next_poll=time.time())
            # Configured again before its keys expired (`forget_feed`): it keeps them.
            self.r.persist(keyspace.seen(feed_id))
            self.save_feed_state(feed_id, state)
            scheduled += 1
        return scheduled

    def claim_due(self, kind: str, now: float, lease: float, limit: int = 1000) -> list[str]:
        return cast(
            list[str], self._claim_due(keys=[keyspace.due(kind)], args=[now, now + lease, limit])
        )

    def schedule(self, kind: str, member: str, when: float) -> None:
        self.r.zadd(keyspace.due(kind), {member: when})

    def is_scheduled(self, kind: str, member: str) -> bool:
        return self.r.zscore(keyspace.due(kind), member) is not None

    def unschedule(self, kind: str, member: str) -> None:
        self.r.zrem(keyspace.due(kind), member)

    def listed_entries(
        self, feed_id: str, entry_ids: list[str], now: float, forget_before: float
    ) -> list[str]:
        """Record that the feed lists `entry_ids` at `now`; returns those never seen.

        In the same step, ids the feed has not listed since `forget_before` are forgotten
        (lua/seen_listed.lua): the seen set holds what the feed lists plus what it listed
        within the horizon, never every id it ever listed. A parked failure (no retry
        coming) forgotten that way leaves the outbox and the failures with it.
        """
        return cast(
            list[str],
            self._seen_listed(
                keys=[
                    keyspace.seen(feed_id),
                    keyspace.outbox(feed_id),
                    keyspace.due("entries"),
                    keyspace.FAILURES,
                ],
                args=[now, forget_before, feed_id, *entry_ids],
            ),
        )

    def seen_count(self, feed_id: str) -> int:
        """How many entry ids the feed's seen set holds."""
        return int(self.r.zcard(keyspace.seen(feed_id)))

    def forget_feed(self, feed_id: str, after: float) -> None:
        """A feed taken out of the config: its state and seen set expire `after` seconds
        on, unless it is configured again first (`register_feeds` keeps them)."""
        pipe = self.r.pipeline()
        pipe.expire(keyspace.feed(feed_id), int(after))
        pipe.expire(keyspace.seen(feed_id), int(after))
        pipe.execute()

    def stage_new_entries(
        self,
        feed_id: str,
        entries: dict[str, str],
        hand_off_by: float,
        now: float | None = None,
    ) -> list[str]:
        """Mark entries seen (listed at `now`) and stage the new ones in the feed's
        outbox, in one step.

        Overlapping polls of a feed cannot both stage an entry. A staged entry stays in
        the outbox until its processing is recorded (`finish_entry`); if its task is lost,
        the tick hands it out again once `hand_off_by` has passed.
        """
        if not entries:
            return []
        ids = list(entries)
        return cast(
            list[str],
            self._stage(
                keys=[keyspace.seen(feed_id), keyspace.outbox(feed_id), keyspace.due("entries")],
                args=[
                    feed_id,
                    hand_off_by,
                    time.time() if now is None else now,
                    *(x for i in ids for x in (i, entries[i])),
                ],
            ),
        )

    def outbox(self, feed_id: str) -> dict[str, str]:
        """Entries staged and not yet recorded as processed (id → entry JSON)."""
        return cast(dict[str, str], self.r.hgetall(keyspace.outbox(feed_id)))

    def claim_staged(self, feed_id: str, now: float, lease: float, exclude: set[str]) -> list[str]:
        """The JSON of the feed's staged entries whose hand-off is due (an earlier task was
        lost, or a retry has come), each leased `lease` seconds ahead."""
        ids = [
            i for i in cast(list[str], self.r.hkeys(keyspace.outbox(feed_id))) if i not in exclude
        ]
        if not ids:
            return []
        due = cast(
            list[str],
            self._claim_staged(
                keys=[keyspace.due("entries")], args=[feed_id, now, now + lease, *ids]
            ),
        )
        if not due:
            return []
        return [v for v in cast(list[str | None], self.r.hmget(keyspace.outbox(feed_id), due)) if v]

    def staged_entries(self, members: list[str]) -> list[tuple[str, str]]:
        """(feed id, entry JSON) of `feed|entry` members of the hand-off schedule; members
        whose entry is no longer staged are dropped from it."""
        pipe = self.r.pipeline(transaction=False)
        pairs = [member.split("|", 1) for member in members]
        for feed_id, entry_id in pairs:
            pipe.hget(keyspace.outbox(feed_id), entry_id)
        found = []
        for member, (feed_id, _), raw in zip(members, pairs, pipe.execute(), strict=True):
            if raw is None:
                self.r.zrem(keyspace.due("entries"), member)
            else:
                found.append((feed_id, raw))
        return found

    def claim_entry(self, entry_id: str, token: str, ttl: float) -> ClaimOutcome:
        """Who holds an entry: "mine" for the one task that may process it now, "taken"
        when it may but the task that held it before ended without recording how (killed
        by the hard time limit, or its worker died), "done" once its processing is
        recorded, "other" while another task holds it.

        `token` is the task's id. A claim holds for `ttl` (longer than the hard time
        limit); its record is kept long after, so a takeover is seen as one.
        """
        now = time.time()
        return cast(
            ClaimOutcome,
            self._claim_entry(
                keys=[keyspace.entry(entry_id)],
                args=[token, int(now * 1000), int((now + ttl) * 1000), CLAIM_RECORD_MS],
            ),
        )

    def finished_entries(self, entry_ids: list[str]) -> set[str]:
        """Those of `entry_ids` whose processing is recorded (one round trip)."""
        if not entry_ids:
            return set()
        held = self.r.mget([keyspace.entry(i) for i in entry_ids])
        return {i for i, claim in zip(entry_ids, held, strict=True) if claim == "done"}

    def finish_entry(
        self,
        feed_id: str,
        entry_id: str,
        counts: Mapping[str, int] | None = None,
        run: str | None = None,
    ) -> None:
        """Record that an entry's processing has ended: only now does it leave the outbox.
        Its outcome `counts` go in the same trip (see `add_counts`, `mark` "entries")."""
        pipe = self.r.pipeline()
        # The claim is kept long past the last moment a second hand-off can come (a
        # redelivery within the visibility timeout, a leftover re-sent by the feed's next
        # poll), then dropped: one key per entry ever seen would grow Redis without bound.
        # A hand-off after that finds its document already held ("unchanged").
        pipe.set(keyspace.entry(entry_id), "done", ex=ENTRY_DONE_TTL)
        pipe.hdel(keyspace.outbox(feed_id), entry_id)
        pipe.zrem(keyspace.due("entries"), f"{feed_id}|{entry_id}")
        pipe.hdel(keyspace.FAILURES, f"{feed_id}|{entry_id}")
        if counts is not None:
            _queue_counts(pipe, counts, run, "entries")
        pipe.execute()

    def release_entry(self, entry_id: str) -> None:
        self.r.delete(keyspace.entry(entry_id))

    def entry_failed(self, failure: EntryFailure) -> None:
        """Record a failed attempt; the entry stays staged, handed out again at
        `failure.retry_at` or, with None, parked until `newswatch failures --retry`."""
        member = f"{failure.feed}|{failure.entry}"
        pipe = self.r.pipeline()
        pipe.hset(keyspace.FAILURES, member, json.dumps(asdict(failure)))
        if failure.retry_at is None:
            pipe.zrem(keyspace.due("entries"), member)
        else:
            pipe.zadd(keyspace.due("entries"), {member: failure.retry_at})
        pipe.delete(keyspace.entry(failure.entry))
        pipe.execute()

    def failure(self, feed_id: str, entry_id: str) -> EntryFailure | None:
        raw = cast(str | None, self.r.hget(keyspace.FAILURES, f"{feed_id}|{entry_id}"))
        return None if raw is None else EntryFailure(**json.loads(raw))

    def failures(self) -> list[EntryFailure]:
        """Every entry whose last attempt failed (retrying or parked), oldest first."""
        raw = cast(dict[str, str], self.r.hgetall(keyspace.FAILURES))
        return sorted(
            (EntryFailure(**json.loads(v)) for v in raw.values()), key=lambda f: f.failed_at
        )

    def retry_failures(self, now: float) -> list[EntryFailure]:
        """Make every failed entry due at once, attempts counted afresh; returns them."""
        failures = self.failures()
        if failures:
            pipe = self.r.pipeline()
            for failure in failures:
                pipe.zadd(keyspace.due("entries"), {f"{failure.feed}|{failure.entry}": now})
            pipe.delete(keyspace.FAILURES)
            pipe.execute()
        return failures

    def recurring_lines(self, source: str, lines: list[str], threshold: int) -> set[str]:
        """The lines already counted in at least `threshold` documents of `source`."""
        short = [line for line in dict.fromkeys(lines) if line and len(line) <= 300]
        if not short:
            return set()
        counts = self.r.hmget(keyspace.lines(source), [_line_key(line) for line in short])
        return {line for line, n in zip(short, counts, strict=True) if n and int(n) >= threshold}

    def count_lines(self, source: str, lines: list[str]) -> None:
        """Count each short line once for this document of `source`."""
        keys = sorted({_line_key(line) for line in lines if line and len(line) <= 300})
        if keys:
            self._count_lines(
                keys=[keyspace.lines(source)], args=[self.lines_kept, self.lines_ttl, *keys]
            )

    @contextmanager
    def host_slot(self, host: str, limit: int, lease: float) -> Iterator[bool]:
        """A per-host concurrency slot, leased for at most `lease` seconds; yields False
        when `limit` unexpired leases are held. A holder that dies blocks nobody for long."""
        key = keyspace.host(host)
        owner = uuid.uuid4().hex
        now = time.time()
        held = bool(self._host_slot(keys=[key], args=[now, now + lease, limit, owner]))
        try:
            yield held
        finally:
            if held:
                self.r.zrem(key, owner)

    # -- topics, documents, the LSH index --------------------------------------------------
    @contextmanager
    def topic_lock(self, topic: str, timeout: float = 120.0) -> Iterator[None]:
        """Hold the topic's lock, for at most `timeout` seconds (it runs out by itself if
        its holder dies), waiting at most as long for it.

        A waiter blocks until the holder's release wakes it (BLPOP), instead of asking
        every few milliseconds: polling was 5% of a prefork child's CPU in the load run,
        two children taking turns on one topic. Raises redis's LockError when the lock
        was not had in time, LockNotOwnedError when it ran out before its release."""
        key = keyspace.topic_lock(topic)

        def take(token: str, ttl_ms: int) -> bool:
            return bool(self.r.set(key, token, nx=True, px=ttl_ms))

        with self._locked(topic, timeout, take):
            yield

    @contextmanager
    def locked_view(
        self,
        topic: str,
        doc_id: str,
        sha256: str,
        bands: Iterable[str],
        timeout: float = 120.0,
    ) -> Iterator[TopicView]:
        """`topic_lock` yielding `topic_view`: the view is read in the call that takes the
        lock (one round trip where they were two, for each document ingested)."""
        ask = self._view_call(topic, doc_id, sha256, bands)
        views: list[TopicView] = []

        def take(token: str, ttl_ms: int) -> bool:
            view = ask(token, ttl_ms)
            if view is not None:
                views.append(view)
            return view is not None

        with self._locked(topic, timeout, take):
            yield views[0]

    @contextmanager
    def _locked(
        self, topic: str, timeout: float, take: Callable[[str, int], bool]
    ) -> Iterator[None]:
        """Hold the topic's lock, `take` (token, time to live in ms) trying it once."""
        key, woken = keyspace.topic_lock(topic), keyspace.topic_lock_woken(topic)
        token = uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        while not take(token, max(1, int(timeout * 1000))):
            left = deadline - time.monotonic()
            if left <= 0:
                raise redis.exceptions.LockError(f"{key}: not had within {timeout:g} s")
            # Woken by a release; a holder that died wakes no one: asked again soon.
            self.r.blpop([woken], timeout=min(left, LOCK_RECHECK))
        # Taken by the call just answered: Redis lets it run out by then at the latest.
        held_until = time.monotonic() + timeout
        try:
            yield
        finally:
            self._release_topic_lock(key, woken, token, timeout, held_until)

    def _release_topic_lock(
        self, key: str, woken: str, token: str, timeout: float, held_until: float
    ) -> None:
        """Release a topic's lock, asking again while Redis is unreachable until its lease
        would have run out: Redis restarted with its append-only file keeps the lock, and
        a release given up on left the topic's every other task waiting out the whole
        lease (the task time limit) after a restart of a few seconds."""
        asked_again = False
        while True:
            try:
                released = self._unlock(keys=[key, woken], args=[token, WAKE_UP_KEPT_MS])
                break
            except STORE_UNREACHABLE as error:
                if time.monotonic() + LOCK_RELEASE_RETRY >= held_until:
                    raise  # it runs out by itself now
                if not asked_again:
                    log.warning(
                        "%s not released (%s); asking again until Redis answers", key, error
                    )
                time.sleep(LOCK_RELEASE_RETRY)
                asked_again = True
        # Asked again, a release whose reply was lost with the connection finds no lock.
        if not released and not asked_again:
            raise redis.exceptions.LockNotOwnedError(
                f"{key} ran out before its release (held longer than {timeout:g} s)"
            )

    def is_bootstrapped(self, topic: str) -> bool:
        return bool(self.r.exists(keyspace.topic_ready(topic)))

    def mark_bootstrapped(self, topic: str) -> None:
        self.r.set(keyspace.topic_ready(topic), str(time.time()))

    def next_sequence(self, topic: str, floor: Callable[[], int]) -> int:
        """The next document number; `floor` (the highest used on disk) is read only when
        the counter is missing (a new topic, or Redis lost its data)."""
        counter = [keyspace.sequence(topic)]
        number = self._next_sequence(keys=counter)
        if number is None:
            number = self._next_sequence(keys=counter, args=[floor()])
        return int(number)

    def set_sequence(self, topic: str, last: int) -> None:
        """Make `last` the topic's highest document number (after a reindex)."""
        self.r.set(keyspace.sequence(topic), last)

    def document(self, topic: str, doc_id: str) -> HeldDocument | None:
        raw = cast(str | None, self.r.hget(keyspace.documents(topic), doc_id))
        return None if raw is None else HeldDocument.from_json(raw)

    def hold_document(
        self,
        topic: str,
        doc_id: str,
        held: HeldDocument,
        signature: np.ndarray,
        bands: Iterable[str],
    ) -> None:
        """Hold a document: its record, its text's hash and its place in the topic's
        duplicate index, in one step."""
        self.index_signature(topic, doc_id, signature, bands, held)

    def index_signature(
        self,
        topic: str,
        doc_id: str,
        signature: np.ndarray,
        bands: Iterable[str],
        held: HeldDocument | None = None,
    ) -> None:
        """Add a document's MinHash signature and LSH band buckets to the topic's index
        (and, given `held`, the document's record and text hash: `hold_document`)."""
        import numpy as np

        keys, fields = self._band_slots(topic, bands)
        packed = base64.b64encode(signature.astype(np.uint32).tobytes()).decode("ascii")
        record, sha256 = (held.to_json(), held.sha256) if held else ("", "")
        self._lsh_add(
            keys=[
                keyspace.signatures(topic),
                keyspace.documents(topic),
                keyspace.text_hashes(topic),
                *keys,
            ],
            args=[doc_id, self.bucket_capacity, packed, record, sha256, *fields],
        )

    def topic_view(self, topic: str, doc_id: str, sha256: str, bands: Iterable[str]) -> TopicView:
        """What ingesting a document reads under the topic's lock, in one round trip."""
        view = self._view_call(topic, doc_id, sha256, bands)("", 0)
        assert view is not None  # read without taking the lock: always answered
        return view

    def _view_call(
        self, topic: str, doc_id: str, sha256: str, bands: Iterable[str]
    ) -> Callable[[str, int], TopicView | None]:
        """lua/topic_view.lua for this document, its keys made once: called with a lock
        token and time to live (ms) it first takes the lock (None: another holds it),
        with "" it only reads."""
        keys, fields = self._band_slots(topic, bands)
        keys = [
            keyspace.topic_lock(topic),
            keyspace.topic_ready(topic),
            keyspace.documents(topic),
            keyspace.text_hashes(topic),
            keyspace.sequence(topic),
            *keys,
        ]

        def call(token: str, ttl_ms: int) -> TopicView | None:
            found = self._topic_view(keys=keys, args=[token, ttl_ms, doc_id, sha256, *fields])
            if found is None:
                return None
            ready, raw, exact, members, number = found
            return TopicView(
                ready=bool(ready),
                held=HeldDocument.from_json(raw) if raw else None,
                same_text=str(exact) if exact else None,
                candidates=frozenset(members.split(",")) if members else frozenset(),
                number=None if number is None else int(number),
            )

        return call

    def lsh_candidates(self, topic: str, bands: Iterable[str]) -> set[str]:
        """Documents sharing at least one band bucket with the given bands."""
        keys, fields = self._band_slots(topic, bands)
        members = cast(str, self._lsh_query(keys=keys, args=fields))
        return set(members.split(",")) if members else set()

    @staticmethod
    def _band_slots(topic: str, bands: Iterable[str]) -> tuple[list[str], list[str]]:
        # Buckets are sharded into 4,096 small hashes per band (the first three hex digits
        # of the bucket name the hash, the rest the field): millions of one-member sets
        # would cost far more memory than fields of compact hashes.
        keys, fields = [], []
        for band in bands:
            number, bucket = band.split(":", 1)
            keys.append(keyspace.lsh_bucket(topic, number, bucket[:3]))
            fields.append(bucket[3:])
        return keys, fields

    def signatures(self, topic: str, doc_ids: list[str]) -> dict[str, np.ndarray]:
        import numpy as np

        if not doc_ids:
            return {}
        values = self.r.hmget(keyspace.signatures(topic), doc_ids)
        return {
            d: np.frombuffer(base64.b64decode(str(v)), dtype=np.uint32)
            for d, v in zip(doc_ids, values, strict=True)
            if v
        }

    def add_counts(
        self, counts: Mapping[str, int], run: str | None = None, mark: str | None = None
    ) -> None:
        """Add outcome counts to the totals (and to a `poll --once` run's, where `mark`
        also notes when it happened: see `run_mark`), in one trip."""
        pipe = self.r.pipeline(transaction=False)
        if _queue_counts(pipe, counts, run, mark):
            pipe.execute()

    def stats(self, run: str | None = None) -> dict[str, int]:
        key = keyspace.run(run, "stats") if run else keyspace.STATS
        return {k: int(v) for k, v in cast(dict[str, str], self.r.hgetall(key)).items()}

    # -- signals ---------------------------------------------------------------------------
    def figure(self, topic: str, figure: str) -> FigureState:
        raw = cast(str | None, self.r.hget(keyspace.figures(topic), figure))
        return FigureState() if raw is None else FigureState.model_validate_json(raw)

    def figures(self, topic: str) -> dict[str, FigureState]:
        raw = cast(dict[str, str], self.r.hgetall(keyspace.figures(topic)))
        return {k: FigureState.model_validate_json(v) for k, v in raw.items()}

    def save_figure(self, topic: str, figure: str, state: FigureState) -> None:
        self.r.hset(keyspace.figures(topic), figure, state.model_dump_json())

    def figure_history(self, topic: str, figure: str) -> list[FigureStep]:
        """The steps of a figure's confirmed value, in publication order.

        A history is read whole for each document that moves its figure, and a figure
        that moves often (a busy topic, a noisy figure) holds thousands of steps: the
        history this process last read or wrote is used again while its version is the
        one stored (one GET), and each stored step is parsed once per process."""
        held = self._histories.get((topic, figure))
        if held is not None and self.r.get(keyspace.history_version(topic, figure)) == held.version:
            return list(held.steps)
        pipe = self.r.pipeline()  # the list and its version, as one
        pipe.lrange(keyspace.history(topic, figure), 0, -1)
        pipe.get(keyspace.history_version(topic, figure))
        raw, version = cast(tuple[list[str], str | None], pipe.execute())
        if len(self._steps) > STEPS_PARSED_KEPT:
            self._steps.clear()
        steps = []
        for value in raw:
            step = self._steps.get(value)
            if step is None:
                step = self._steps[value] = FigureStep.model_validate_json(value)
            steps.append(step)
        self._hold_history(topic, figure, version, steps, raw)
        return steps

    def save_figure_history(self, topic: str, figure: str, steps: list[FigureStep]) -> None:
        """Store a figure's history (a late article inserts a step or adds a source to an
        old one). A history this process holds at its stored version is changed in place
        when the change is steps added at the end or a few steps changed; otherwise, or
        when another process changed it since, it is rewritten whole."""
        held = self._histories.get((topic, figure))
        known = {id(s): r for s, r in zip(held.steps, held.raw, strict=True)} if held else {}
        raw = [known.get(id(step)) or step.model_dump_json() for step in steps]
        version = uuid.uuid4().hex
        keys = [keyspace.history(topic, figure), keyspace.history_version(topic, figure)]
        change = _history_change(held.raw, raw) if held else None
        if not (
            held
            and change
            and self._history_update(keys=keys, args=[held.version, version, *change])
        ):
            pipe = self.r.pipeline()
            pipe.delete(keys[0])
            if raw:
                pipe.rpush(keys[0], *raw)
            pipe.set(keys[1], version)
            pipe.execute()
        self._hold_history(topic, figure, version, list(steps), raw)

    def _hold_history(
        self,
        topic: str,
        figure: str,
        version: str | None,
        steps: list[FigureStep],
        raw: list[str],
    ) -> None:
        if version is None:  # written before histories had versions: read whole each time
            self._histories.pop((topic, figure), None)
            return
        if len(self._histories) > HISTORIES_KEPT:
            self._histories.clear()
        self._histories[(topic, figure)] = _HeldHistory(version, steps, raw)

    def first_sightings(
        self, topic: str, entities: Iterable[str], known_names: Iterable[str] = ()
    ) -> set[str]:
        """Of `entities` seen in a document, those seen on the topic for the first time;
        `known_names` (the folded words of a document that does not alert: words the
        topic already uses) are added in the same round trip."""
        entities, known_names = list(dict.fromkeys(entities)), list(known_names)
        if not entities and not known_names:
            return set()
        pipe = self.r.pipeline(transaction=False)
        for entity in entities:
            pipe.sadd(keyspace.entities(topic), entity)
        if known_names:
            pipe.sadd(keyspace.known_names(topic), *known_names)
        added = pipe.execute()
        return {entity for entity, new in zip(entities, added, strict=False) if new}

    def emerged_names(self, topic: str) -> list[str]:
        """The names already suggested as emerging on a topic."""
        return sorted(cast(set[str], self.r.smembers(keyspace.emerged(topic))))

    def add_emerged_name(self, topic: str, name: str) -> None:
        self.r.sadd(keyspace.emerged(topic), name)

    def record_sightings(
        self,
        topic: str,
        entities: Iterable[str],
        names: Mapping[str, Iterable[str]],
        doc_id: str,
        source: str,
    ) -> tuple[set[str], dict[str, tuple[int, int]]]:
        """`first_sightings` of a document's tracked entities, and each untracked name
        (name → its folded words) with a word the topic's known names lack counted:
        (documents, sources) per name counted. One call (a document that alerts reads
        both)."""
        entities, ordered = list(dict.fromkeys(entities)), list(names)
        if not entities and not ordered:
            return set(), {}
        keys = [keyspace.known_names(topic), keyspace.entities(topic)]
        for name in ordered:
            keys += [keyspace.name_documents(topic, name), keyspace.name_sources(topic, name)]
        words = [" ".join(names[name]) for name in ordered]
        found = cast(
            list[int],
            self._record_names(keys=keys, args=[doc_id, source, len(entities), *entities, *words]),
        )
        first = {entity for entity, new in zip(entities, found, strict=False) if new}
        counts = found[len(entities) :]
        return first, {
            name: (int(counts[2 * i]), int(counts[2 * i + 1]))
            for i, name in enumerate(ordered)
            if counts[2 * i]
        }

    # -- events and deliveries -------------------------------------------------------------
    def save_event(self, event: AlertEvent, route_within: float = ROUTE_WITHIN) -> bool:
        """Store an event once; False when an event with this id already exists.

        In the same step the event is scheduled to be routed: if the task that saved it
        is lost before it routes it (`routed`), the tick routes it after `route_within`.
        """
        now = time.time()
        created = self._save_event(
            keys=[keyspace.event(event.id), keyspace.EVENTS, keyspace.due("routes")],
            args=[event.model_dump_json(), event.id, now, now + route_within],
        )
        return bool(created)

    def routed(self, event_id: str) -> None:
        """The event's deliveries are recorded and scheduled."""
        self.r.zrem(keyspace.due("routes"), event_id)

    def event(self, event_id: str) -> AlertEvent | None:
        raw = cast(str | None, self.r.get(keyspace.event(event_id)))
        return None if raw is None else from_payload(raw)

    def recent_events(self, limit: int = 50, since: float | None = None) -> list[AlertEvent]:
        """The latest events, newest first; only those stored after `since` when given."""
        if since is None:
            ids = cast(list[str], self.r.zrevrange(keyspace.EVENTS, 0, limit - 1))
        else:
            ids = cast(
                list[str],
                self.r.zrevrangebyscore(keyspace.EVENTS, "+inf", since, start=0, num=limit),
            )
        return [e for e in (self.event(i) for i in ids) if e is not None]

    def delivery(self, event_id: str, channel: str) -> Delivery | None:
        raw = cast(str | None, self.r.hget(keyspace.deliveries(event_id), channel))
        return None if raw is None else Delivery.from_json(json.loads(raw))

    def save_delivery(self, event_id: str, channel: str, delivery: Delivery) -> None:
        self.r.hset(keyspace.deliveries(event_id), channel, json.dumps(asdict(delivery)))

    def claim_delivery(self, event_id: str, channel: str, token: str, ttl: float) -> bool:
        """Whether the attempt `token` may send the event to `channel` now: no other
        attempt holds the delivery. A claim holds for `ttl` seconds unless let go
        (`release_delivery`), so one whose attempt died runs out."""
        key = keyspace.delivery_claim(event_id, channel)
        return bool(self._claim_delivery(keys=[key], args=[token, int(ttl * 1000)]))

    def release_delivery(self, event_id: str, channel: str, token: str) -> None:
        self._release_claim(keys=[keyspace.delivery_claim(event_id, channel)], args=[token])

    def deliveries(self, event_id: str) -> dict[str, Delivery]:
        """Every channel's delivery of an event (one hash per event: no key scan)."""
        raw = cast(dict[str, str], self.r.hgetall(keyspace.deliveries(event_id)))
        return {channel: Delivery.from_json(json.loads(v)) for channel, v in raw.items()}

    def set_channel_disabled(self, channel: str, reason: str) -> None:
        self.r.hset(keyspace.CHANNELS_DISABLED, channel, reason)

    def channel_disabled(self, channel: str) -> str | None:
        return cast(str | None, self.r.hget(keyspace.CHANNELS_DISABLED, channel))

    def join_digest(self, channel: str, event_id: str, delivery: Delivery, now: float) -> None:
        """The event joins the channel's digest, once, and its delivery is recorded as
        `delivery`, in one step (lua/join_digest.lua)."""
        self._join_digest(
            keys=[
                keyspace.digest(channel),
                keyspace.digest(channel, "since"),
                keyspace.deliveries(event_id),
            ],
            args=[event_id, channel, json.dumps(asdict(delivery)), now],
        )

    def claim_digest(self, channel: str, token: str, ttl: float) -> bool:
        """Whether the attempt `token` may send the channel's digest now (as
        `claim_delivery`, for the digest's one message)."""
        key = keyspace.digest(channel, "claim")
        return bool(self._claim_delivery(keys=[key], args=[token, int(ttl * 1000)]))

    def release_digest(self, channel: str, token: str) -> None:
        self._release_claim(keys=[keyspace.digest(channel, "claim")], args=[token])

    def close_digest(
        self, channel: str, events: list[str], deliveries: Mapping[str, Delivery], now: float
    ) -> bool:
        """The digest's first `events` (sent, or failed for good) leave it and each one's
        delivery in `deliveries` is recorded, in one step (lua/close_digest.lua). False
        when an earlier call already did (its reply lost)."""
        records = [json.dumps(asdict(deliveries[i])) if i in deliveries else "" for i in events]
        return bool(
            self._close_digest(
                keys=[
                    keyspace.digest(channel),
                    keyspace.digest(channel, "since"),
                    keyspace.digest(channel, "attempts"),
                    keyspace.digest(channel, "next"),
                    *(keyspace.deliveries(i) for i in events),
                ],
                args=[channel, len(events), *events, *records, now],
            )
        )

    def digest_due(self, channel: str, window: float, now: float) -> bool:
        since, retry_at = self.r.mget(
            keyspace.digest(channel, "since"), keyspace.digest(channel, "next")
        )
        if since is None or now - float(cast(str, since)) < window:
            return False
        return retry_at is None or now >= float(cast(str, retry_at))

    def digest_attempts(self, channel: str) -> int:
        """Failed attempts at sending the channel's current digest."""
        return int(cast(str, self.r.get(keyspace.digest(channel, "attempts")) or 0))

    def digest_failed(self, channel: str, attempts: int, retry_at: float) -> None:
        """Record a failed send; the digest is not due again before `retry_at`."""
        pipe = self.r.pipeline()
        pipe.set(keyspace.digest(channel, "attempts"), attempts)
        pipe.set(keyspace.digest(channel, "next"), retry_at)
        pipe.execute()

    def digest_pending(self, channel: str) -> list[str]:
        return cast(list[str], self.r.lrange(keyspace.digest(channel), 0, -1))

    # -- runs of `poll --once` --------------------------------------------------------------
    def run_add(self, run: str, count: int = 1) -> None:
        self._run_count(run, count)

    def run_done(self, run: str) -> None:
        self._run_count(run, -1)

    def _run_count(self, run: str, change: int) -> None:
        # The expiry is set on every change: a task finishing after the count expired
        # would otherwise leave a key that never does.
        pipe = self.r.pipeline()
        pipe.incrby(keyspace.run(run, "pending"), change)
        pipe.expire(keyspace.run(run, "pending"), RUN_KEPT)
        pipe.execute()

    def run_mark(self, run: str, name: str, when: float) -> None:
        """Record when something finished in a run (entries processed), for its summary."""
        pipe = self.r.pipeline(transaction=False)
        _queue_mark(pipe, run, name, when)
        pipe.execute()

    def run_marks(self, run: str, name: str) -> list[float]:
        return [float(v) for v in cast(list[str], self.r.lrange(keyspace.run(run, name), 0, -1))]

    def mark_dry_run(self, run: str) -> None:
        """Whatever this run detects is recorded, not sent (workers already running obey)."""
        self.r.set(keyspace.run(run, "dry"), 1, ex=RUN_KEPT)

    def is_dry_run(self, run: str) -> bool:
        return bool(self.r.exists(keyspace.run(run, "dry")))

    def run_pending(self, run: str) -> int:
        return int(cast(str, self.r.get(keyspace.run(run, "pending")) or 0))

    def flush_indexes(self) -> None:
        """Drop every index newswatch can rebuild from the corpus folders."""
        for pattern in keyspace.INDEX_PATTERNS:
            found = list(self.r.scan_iter(pattern, count=1000))
            for start in range(0, len(found), 500):
                self.r.delete(*found[start : start + 500])

    # -- read by the web view and /metrics ---------------------------------------------------
    def unavailable(self) -> str | None:
        """None when Redis answers, else why not (for `/healthz`)."""
        try:
            self.r.ping()
        except (redis.RedisError, OSError) as error:
            return f"{type(error).__name__}: {error}"
        return None

    def queue_depths(self, queues: Iterable[str]) -> dict[str, int]:
        """Messages waiting in each Celery queue (the Redis transport keeps one list per
        queue, and one more per priority step, named with a separator and the step)."""
        names = list(queues)
        pipe = self.r.pipeline(transaction=False)
        for queue in names:
            pipe.llen(queue)
            for step in (3, 6, 9):
                pipe.llen(f"{queue}\x06\x16{step}")
        lengths = pipe.execute()
        return {queue: sum(lengths[i * 4 : i * 4 + 4]) for i, queue in enumerate(names)}

    def record_task_times(self, task: str, times: Mapping[TaskMeasure, float]) -> None:
        """Count one run of a task in its bucket of each histogram every worker adds to:
        `duration` (its start to its end), `wait` (its publication to its start); one trip."""
        pipe = self.r.pipeline(transaction=False)
        for measure, seconds in times.items():
            bucket = next((b for b in TASK_BUCKETS if seconds <= b), float("inf"))
            key = keyspace.histogram(_TASK_HISTOGRAMS[measure], task)
            pipe.hincrby(key, "+Inf" if bucket == float("inf") else repr(bucket), 1)
            pipe.hincrbyfloat(key, "sum", max(0.0, seconds))
            pipe.sadd(keyspace.histogram(_TASK_HISTOGRAMS[measure], "tasks"), task)
        pipe.execute()

    def task_times(self, measure: TaskMeasure) -> dict[str, TaskDurations]:
        """Each task's histogram of `measure`, as recorded by `record_task_times`."""
        prefix = keyspace.histogram(_TASK_HISTOGRAMS[measure])
        tasks = sorted(cast(set[str], self.r.smembers(f"{prefix}:tasks")))
        pipe = self.r.pipeline(transaction=False)
        for task in tasks:
            pipe.hgetall(f"{prefix}:{task}")
        found = {}
        for task, raw in zip(tasks, pipe.execute(), strict=True):
            counts = [int(raw.get(repr(b), 0)) for b in TASK_BUCKETS] + [int(raw.get("+Inf", 0))]
            found[task] = TaskDurations(tuple(counts), float(raw.get("sum", 0.0)))
        return found

    def event_ids(self) -> list[str]:
        """Every stored event's id, oldest first."""
        return cast(list[str], self.r.zrange(keyspace.EVENTS, 0, -1))

    def events_by_id(self, event_ids: list[str]) -> list[AlertEvent]:
        """The stored events of `event_ids`, in that order, in one round trip."""
        if not event_ids:
            return []
        raw = cast(list[str | None], self.r.mget([keyspace.event(i) for i in event_ids]))
        return [from_payload(v) for v in raw if v is not None]

    def deliveries_of(self, event_ids: list[str]) -> dict[str, dict[str, Delivery]]:
        """Every channel's delivery of each event, in one round trip (the alert log's page)."""
        pipe = self.r.pipeline(transaction=False)
        for event_id in event_ids:
            pipe.hgetall(keyspace.deliveries(event_id))
        return {
            event_id: {c: Delivery.from_json(json.loads(v)) for c, v in raw.items()}
            for event_id, raw in zip(event_ids, pipe.execute(), strict=True)
        }

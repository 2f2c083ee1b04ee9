"""The one place that knows the order of the stages (like Miniflux's `RefreshFeed`).

feed → entry → article → document → observations → events → deliveries. Each function
takes ids or typed values, uses the stages and the store, and returns what the caller
must enqueue next; none of them knows Celery.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from worker import dedupe
from worker.alerts import Delivery, next_retry_delay
from worker.alerts import events as alert_events
from worker.alerts.email import send_email
from worker.alerts.events import AlertEvent, summary_line
from worker.alerts.send import send
from worker.articles import (
    Document,
    decode_html,
    extract_article,
    make_document,
    own_identity,
    same_site,
)
from worker.articles.corpus import (
    Corpus,
    HeldDocument,
    ManifestRecord,
    StoredDocument,
    file_name,
    list_documents,
    parse_record,
    sequence_of,
    text_sha256,
)
from worker.articles.normalise import clean_line
from worker.config import (
    Channel,
    Config,
    EmailChannel,
    FeedSettings,
    ServiceSettings,
    TopicSettings,
)
from worker.config import feed_id as feed_id  # where callers have always found it
from worker.errors import DeliveryError, FetchError, NewswatchError, TooLargeError
from worker.feeds import Discovery, Entry, FeedState, Schedule, discover, refresh
from worker.language import language_data
from worker.net import FetchPolicy, fetch, make_client
from worker.signals.changes import (
    DateSource,
    DocumentRef,
    FigureReading,
    FigureState,
    FigureStep,
    judge,
    record_step,
)
from worker.signals.emerging import emerging_names, same_entity
from worker.signals.entities import all_name_keys, tracked_entities
from worker.signals.figures import FigureObservation, observe_figures
from worker.store import STORE_ERRORS, STORE_UNREACHABLE, EntryFailure, Store, TopicView, connect
from worker.text import fold, name_pattern, sentences
from worker.topics import is_relevant
from worker.words import lemma, stem

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# A failed entry is handed out again after each of these delays, then parked where
# `newswatch failures` shows it (about seven hours of attempts).
ENTRY_RETRY_DELAYS = (60.0, 600.0, 3600.0, 6 * 3600.0)
# A line seen in this many earlier documents of the same source is boilerplate
# ("Follow our WhatsApp channel…") even when no pattern names it.
RECURRING_AFTER = 3
# A feed's seen set forgets an entry id the feed has not listed for this long, or for its
# `max_age` if longer. Should the feed list it again, it is an old entry: its document is
# held ("unchanged"), or, if its page changed, older than `max_age` and so never alerted;
# and its events, if any, have ids already stored.
UNLISTED_KEPT = 30 * 86400.0


@dataclass
class Runtime:
    """What a worker process holds: config, a Redis store, an HTTP client."""

    config: Config
    redis_url: str
    pid: int = field(default_factory=os.getpid)
    # The config files' stamp when `config` was read, and when it was last compared.
    stamp: tuple[tuple[str, int, int], ...] = ()
    checked: float = 0.0
    # Only one thread of the process uses the store (a prefork child): it keeps one
    # Redis connection (`worker.store.connect`).
    one_thread: bool = False

    @cached_property
    def store(self) -> Store:
        return Store(connect(self.redis_url, one_thread=self.one_thread))

    @cached_property
    def policy(self) -> FetchPolicy:
        return fetch_policy(self.config.service)

    @cached_property
    def client(self) -> httpx.Client:
        return make_client(self.policy)

    def schedule(self, feed: FeedSettings) -> Schedule:
        service = self.config.service
        return Schedule.for_feed(
            feed.interval,
            service.poll_interval,
            service.min_poll_interval,
            service.max_poll_interval,
        )

    @cached_property
    def feeds_by_id(self) -> dict[str, FeedSettings]:
        return {feed_id(feed.url): feed for feed in self.config.feeds}

    @cached_property
    def outlets(self) -> frozenset[str]:
        """The configured source names (feed names), never suggested as emerging names."""
        return frozenset(feed.name for feed in self.config.feeds if feed.name)

    def feed(self, feed_key: str) -> FeedSettings | None:
        return self.feeds_by_id.get(feed_key)

    @property
    def hand_off_lease(self) -> float:
        """How long a task handed out (a poll, an entry, a delivery) may take before the
        tick counts it as lost and hands its work out again."""
        return self.config.service.task_time_limit * 2

    @property
    def poll_lease(self) -> float:
        """How long a poll handed out may take before the tick hands it out again: a poll
        has no time limit (thread pool) but ends within its fetch's total deadline."""
        return self.config.service.fetch_timeout * 3 + 10

    @property
    def topic_lock_ttl(self) -> float:
        """How long a task may hold a topic's lock: its holder cannot outlive the hard
        time limit, so a lock left by a killed one (or one whose release Redis missed)
        blocks its topic no longer than that."""
        return self.config.service.task_time_limit

    @property
    def entry_claim_ttl(self) -> float:
        """How long a task holds its entry: past the hard time limit it cannot be running,
        and the claim has run out before the tick hands the entry out again."""
        return self.config.service.task_time_limit * 1.5

    @property
    def delivery_claim_ttl(self) -> float:
        """How long a delivery attempt holds its delivery: its send (bounded by the
        channel's timeout) and the record of its outcome, which waits for Redis while
        Redis is unreachable. Another attempt handed out meanwhile sends nothing."""
        return self.hand_off_lease

    @property
    def host_slot_lease(self) -> float:
        """How long a poll may hold its host's slot: a refresh ends within the fetch's
        total deadline, parsing within a few seconds more."""
        return self.config.service.fetch_timeout * 2 + 5


def fetch_policy(service: ServiceSettings) -> FetchPolicy:
    return FetchPolicy(
        timeout=service.fetch_timeout,
        max_bytes=service.max_download_bytes,
        max_redirects=service.max_redirects,
        user_agent=service.user_agent,
        allow_private_networks=service.allow_private_networks,
    )


# simplemma keeps this many languages' dictionaries; more would evict the preloaded ones.
PRELOADED_LANGUAGES = 8


def preload(languages: Iterable[str] = (), topics: Iterable[TopicSettings] = ()) -> None:
    """Import and load what article processing needs (trafilatura, htmldate, the language
    model, and the words of `languages`) now: called in a prefork worker's main process, so
    the pool's children share these pages instead of each loading its own copy after the
    fork. A page then goes through the reading steps of each of `topics`, in each of
    `languages`, so what those steps import or build on first use (numpy's random and
    polynomial modules, LSH parameters, compiled name and figure patterns) is shared too."""
    article = extract_article(_PRELOAD_PAGE, "https://preload.invalid/", with_date=True)
    document = make_document(article, source="preload.invalid")  # detects its language
    assert document is not None  # the page holds a body
    codes = list(dict.fromkeys([document.language or "en", *languages]))
    for code in codes:
        language_data(code)  # its CLDR names and stemmer
        lemma("preload", code)  # its lemmatiser dictionary
        stem("preload", code)
    for topic in topics:
        dedupe.fingerprint(document.text, topic.duplicate_threshold)
        for code in codes:
            read = replace(document, language=code)
            is_relevant(read.text, topic, read.title, code)
            read_signals(topic, read.text, read)


def held_languages(config: Config) -> list[str]:
    """The languages of the documents the topics' corpora hold, most documents first (at
    most `PRELOADED_LANGUAGES`): those the worker will most likely read again."""
    counts: Counter[str] = Counter()
    for topic in config.topics.values():
        for record in Corpus(config.corpus_dir(topic)).records():
            if record.language:
                counts[record.language.split("-")[0]] += 1
    return [code for code, _ in counts.most_common(PRELOADED_LANGUAGES)]


# How long a corpus draft is kept before it counts as left behind (seconds), unless ten
# task time limits are longer (`sweep_drafts`).
DRAFT_KEPT = 86400.0


def sweep_drafts(config: Config) -> int:
    """Remove the topics' corpus drafts that no live task may still place; returns how
    many. A task places or discards its draft within its hard time limit
    (`task_time_limit`), so one a day old (or ten time limits) was left by a worker
    stopped in between. Called as an article worker starts, which is what follows such a
    stop."""
    older_than = max(DRAFT_KEPT, 10 * config.service.task_time_limit)
    removed = 0
    for topic in config.topics.values():
        folder = config.corpus_dir(topic)
        try:
            removed += len(Corpus(folder).sweep_drafts(older_than))
        except OSError as error:
            log.warning("drafts in %s not swept: %s", folder, error)
    return removed


_PRELOAD_PAGE = (
    "<html lang='en'><head><title>Preload</title></head><body><article>"
    "<p>The article stage is loaded before the worker forks its pool of processes.</p>"
    "<p>About 1,200 workers in Preload said on Monday that 3 of 12 units had stopped.</p>"
    "<p>Officials of the Preload Council expect the figure to rise to 1,500 by March.</p>"
    "</article></body></html>"
)


# -- feeds ------------------------------------------------------------------------------


def discover_feed(service: ServiceSettings, url: str) -> Discovery:
    """The feed to add for `url` (`feeds add --discover`): itself, or the feed its page
    advertises; the same address checks and limits as every poll."""
    policy = fetch_policy(service)
    with make_client(policy) as client:
        return discover(client, url, policy)


@dataclass(frozen=True)
class FeedPoll:
    status: str
    new_entries: tuple[Entry, ...] = ()
    # The feed's first successful poll: what it lists is the baseline, never alerted.
    baseline: bool = False
    events: tuple[AlertEvent, ...] = ()
    error: str | None = None
    # Entries handed off again (staged by an earlier poll), and those of them staged as
    # baseline: an entry keeps the flag of the poll that staged it.
    leftovers: frozenset[str] = frozenset()
    baseline_ids: frozenset[str] = frozenset()

    def is_baseline(self, entry: Entry) -> bool:
        if entry.id in self.leftovers:
            return entry.id in self.baseline_ids
        return self.baseline


def staged_record(entry: Entry, baseline: bool) -> str:
    """What the outbox keeps of a staged entry: the entry and whether it is baseline."""
    return json.dumps({"entry": entry.to_json(), "baseline": baseline}, ensure_ascii=False)


def staged_entry(raw: str) -> tuple[Entry, bool]:
    """An entry and its baseline flag as staged (an entry staged before the flag was kept
    is not baseline)."""
    data = json.loads(raw)
    if isinstance(data.get("entry"), dict):
        return Entry.from_json(data["entry"]), bool(data.get("baseline"))
    return Entry.from_json(data), False


def sync_feeds(rt: Runtime) -> int:
    """Register configured feeds that the store does not know yet; returns how many."""
    return rt.store.register_feeds({key: feed.url for key, feed in rt.feeds_by_id.items()})


def poll_feed(rt: Runtime, feed_key: str, now: float | None = None) -> FeedPoll:
    """Refresh one feed; return the entries to hand off (new ones, and staged ones whose
    hand-off is due: a killed poll's, a lost task's, a retry's) and health events."""
    now = time.time() if now is None else now
    settings = rt.feed(feed_key)
    if settings is None:
        rt.store.unschedule("feeds", feed_key)
        rt.store.forget_feed(feed_key, after=UNLISTED_KEPT)
        return FeedPoll("unknown")
    state = rt.store.feed_state(feed_key) or FeedState(url=settings.url)
    if state.retired:
        return FeedPoll("retired")
    schedule = rt.schedule(settings)
    host = urlsplit(state.url).hostname or ""
    with rt.store.host_slot(
        host, rt.config.service.per_host_concurrency, rt.host_slot_lease
    ) as free:
        if not free:
            # One site is never hammered: try again shortly, after the busy polls finish.
            rt.store.schedule("feeds", feed_key, now + 5.0)
            return FeedPoll("host_busy")
        outcome = refresh(state, rt.client, rt.policy, schedule, now)
    outcome_state, events = _feed_health(rt, settings, state, outcome.state, now)
    baseline = state.last_success is None and outcome_state.last_success is not None
    # Only entries not seen before are serialised and sent to be staged: most polls of a
    # changed feed bring one or two new entries among many old ones.
    unseen = (
        set(
            rt.store.listed_entries(
                feed_key,
                [e.id for e in outcome.entries],
                now,
                forget_before=now - seen_horizon(rt, settings),
            )
        )
        if outcome.entries
        else set()
    )
    staged = rt.store.stage_new_entries(
        feed_key,
        {e.id: staged_record(e, baseline) for e in outcome.entries if e.id in unseen},
        hand_off_by=now + rt.hand_off_lease,
        now=now,
    )
    if staged:
        outcome_state = replace(outcome_state, entries_seen=state.entries_seen + len(staged))
    rt.store.save_feed_state(feed_key, outcome_state)
    # Hand off what this poll staged and what is staged and due (a poll killed before its
    # hand-off, a lost task, a retry); oldest first, so a figure's history follows
    # publication order.
    staged_ids = set(staged)
    pending = [e for e in outcome.entries if e.id in staged_ids]
    leftovers = [
        staged_entry(raw)
        for raw in rt.store.claim_staged(feed_key, now, rt.hand_off_lease, exclude=staged_ids)
    ]
    pending += [entry for entry, _ in leftovers]
    new = tuple(sorted(pending, key=lambda e: e.published or datetime.min.replace(tzinfo=UTC)))
    return FeedPoll(
        outcome.status,
        new,
        baseline,
        tuple(events),
        outcome.error,
        baseline_ids=frozenset(entry.id for entry, flag in leftovers if flag),
        leftovers=frozenset(entry.id for entry, _ in leftovers),
    )


def seen_horizon(rt: Runtime, feed: FeedSettings) -> float:
    """How long the feed's seen set keeps an id the feed no longer lists (`UNLISTED_KEPT`,
    or the longest `max_age` that applies to the feed's entries)."""
    if feed.max_age:
        ages = [feed.max_age]
    else:
        names = list(rt.config.topics) if "*" in feed.topics else feed.topics
        ages = [rt.config.topics[t].max_age for t in names if t in rt.config.topics]
    return max([UNLISTED_KEPT, *ages])


def _feed_health(
    rt: Runtime, settings: FeedSettings, before: FeedState, after: FeedState, now: float
) -> tuple[FeedState, list[AlertEvent]]:
    """`feed.failing` once when a spell of errors passes the limit, `feed.recovered` after."""
    limit = rt.config.service.feed_failing_after
    if (
        after.failing_since is not None
        and not after.failing_alerted
        and now - after.failing_since >= limit
    ):
        return replace(after, failing_alerted=True), [
            alert_events.feed_health(
                "feed.failing", settings.url, settings.topics, after.last_error, after.failing_since
            )
        ]
    if before.failing_alerted and after.failing_since is None and not after.retired:
        assert before.failing_since is not None
        return replace(after, failing_alerted=False), [
            alert_events.feed_health(
                "feed.recovered", settings.url, settings.topics, None, before.failing_since
            )
        ]
    return after, []


# -- entries → documents ------------------------------------------------------------------


IngestStatus = Literal["off_topic", "new", "revision", "copy", "unchanged"]
# What `poll --once` summaries and the stats count for each outcome.
COUNTED_AS: dict[str, str] = {
    "off_topic": "off_topic",
    "new": "documents",
    "revision": "revisions",
    "copy": "copies",
    "unchanged": "unchanged",
    "empty": "empty",
}


@dataclass
class IngestOutcome:
    """What one topic made of a document."""

    status: IngestStatus
    file: str | None = None
    events: list[AlertEvent] = field(default_factory=list)


@dataclass
class EntryResult:
    """What an entry became: no text at all, an outcome per topic, or a failed attempt
    (`retrying`, or `parked` after the last retry)."""

    status: Literal["empty", "processed", "retrying", "parked"]
    outcomes: list[IngestOutcome] = field(default_factory=list)

    @property
    def events(self) -> list[AlertEvent]:
        return [event for outcome in self.outcomes for event in outcome.events]

    @property
    def documents(self) -> list[str]:
        return [outcome.file for outcome in self.outcomes if outcome.file]

    def counts(self) -> Counter[str]:
        if self.status == "empty":
            return Counter({COUNTED_AS["empty"]: 1})
        if self.status in ("retrying", "parked"):
            return Counter({"failed": 1})
        return Counter(COUNTED_AS[outcome.status] for outcome in self.outcomes)


# An article page: its HTML and final URL.
Page = tuple[str, str]


def entry_to_document(
    rt: Runtime,
    entry: Entry,
    source: str,
    language_hint: str | None = None,
    pages: PagePrefetch | None = None,
) -> Document | None:
    """Fetch the linked page (or take it from `pages`, fetched ahead) and cut its body;
    fall back to the feed's own content."""
    html, url = None, entry.link or ""
    if entry.link:
        try:
            html, url = pages.page(entry.link) if pages else fetch_page(rt, entry.link)
        except FetchError as error:
            log.warning(
                "article %s could not be fetched (%s); using the feed's content",
                entry.link,
                error.reason,
            )
    return page_to_document(
        rt,
        html,
        url,
        source,
        fallback_html=entry.content or "",
        title=entry.title or "",
        link=entry.link or "",
        published=entry.published,
        language_hint=language_hint,
    )


def fetch_page(rt: Runtime, url: str) -> Page:
    """An article page's HTML and its final URL, through the safe fetcher."""
    page = fetch(rt.client, url, rt.policy, accept=PAGE_ACCEPT)
    return decode_html(page.body, page.content_type), page.final_url


class PagePrefetch:
    """The pages of a batch of entries, fetched in order, `per_host_concurrency` at a
    time (a batch's entries come from one feed, mostly one site), while the entries
    before them are processed: a worker's CPU is not left idle waiting on the network.
    Close it to drop what was not asked for (a batch cut short)."""

    def __init__(self, rt: Runtime, links: Iterable[str]) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=rt.config.service.per_host_concurrency, thread_name_prefix="page"
        )
        self._rt = rt
        self._pages: dict[str, Future[Page]] = {}
        for link in links:
            if link and link not in self._pages:
                self._pages[link] = self._pool.submit(fetch_page, rt, link)

    def page(self, link: str) -> Page:
        """The page at `link`, as `fetch_page` gives it (raising what it raises)."""
        future = self._pages.pop(link, None)
        return future.result() if future is not None else fetch_page(self._rt, link)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pages.clear()

    def __enter__(self) -> PagePrefetch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def page_to_document(
    rt: Runtime,
    html: str | None,
    url: str,
    source: str,
    *,
    fallback_html: str = "",
    title: str = "",
    link: str = "",
    published: datetime | None = None,
    language_hint: str | None = None,
    learn: bool = True,
) -> Document | None:
    """A page (or, without one, the fallback content) cut to its body in the seed schema.

    Lines this source repeats across its documents are boilerplate and are dropped;
    `learn=False` reads without the store (nothing remembered, nothing dropped).
    """
    # The page's own date is only a fallback for an entry without one (htmldate's search
    # is a good part of a page's extraction time).
    article = extract_article(html, url, with_date=published is None) if html is not None else None
    candidates = [clean_line(p) for p in article.paragraphs] if article else []
    recurring = rt.store.recurring_lines(source, candidates, RECURRING_AFTER) if learn else set()
    document = make_document(
        article,
        source=source,
        fallback_html=fallback_html,
        fallback_title=title,
        url=link or url,
        published=published,
        language_hint=language_hint,
        recurring=recurring.__contains__,
    )
    if document is not None and learn:
        rt.store.count_lines(source, [*document.text.split("\n"), *recurring])
    return document


def entry_failed(
    rt: Runtime, feed_key: str, entry: Entry, reason: str, now: float | None = None
) -> EntryResult:
    """Record a failed attempt at an entry: handed out again after a growing delay, then
    parked where `newswatch failures` and `feeds list` show it. Nothing is dropped."""
    now = time.time() if now is None else now
    previous = rt.store.failure(feed_key, entry.id)
    attempts = (previous.attempts if previous else 0) + 1
    delay = ENTRY_RETRY_DELAYS[attempts - 1] if attempts <= len(ENTRY_RETRY_DELAYS) else None
    rt.store.entry_failed(
        EntryFailure(
            feed=feed_key,
            entry=entry.id,
            link=entry.link,
            reason=reason,
            attempts=attempts,
            failed_at=now,
            retry_at=None if delay is None else now + delay,
        )
    )
    if delay is None:
        log.error(
            "entry %s (%s) failed %d times, parked (newswatch failures --retry): %s",
            entry.id, entry.link, attempts, reason,
        )  # fmt: skip
        return EntryResult("parked")
    log.error(
        "entry %s (%s) failed (attempt %d, retried in %.0f s): %s",
        entry.id, entry.link, attempts, delay, reason,
    )  # fmt: skip
    return EntryResult("retrying")


def source_name(url: str) -> str:
    host = (urlsplit(url).hostname or url).lower()
    return host.removeprefix("www.")


def process_entry(
    rt: Runtime,
    feed_key: str | None,
    entry: Entry,
    topics: list[str],
    *,
    baseline: bool = False,
    pages: PagePrefetch | None = None,
) -> EntryResult:
    """Entry → document → every topic it belongs to (silently for a `baseline` entry)."""
    feed = rt.feed(feed_key) if feed_key else None
    source = (feed.name if feed and feed.name else None) or source_name(entry.link or "")
    document = entry_to_document(rt, entry, source, pages=pages)
    if document is None:
        log.info("entry %s (%s) holds no article text", entry.id, entry.link)
        return EntryResult("empty")
    return process_document(rt, document, topics, feed_key, baseline=baseline)


def process_document(
    rt: Runtime,
    document: Document,
    topics: list[str],
    feed_key: str | None,
    *,
    baseline: bool = False,
) -> EntryResult:
    """A document → every topic it belongs to (polled entries and `ingest` alike)."""
    return EntryResult(
        "processed",
        [
            ingest_document(rt, rt.config.topics[t], document, feed_key, baseline=baseline)
            for t in topics
        ],
    )


def ingest_document(
    rt: Runtime,
    topic: TopicSettings,
    document: Document,
    feed_key: str | None,
    *,
    baseline: bool = False,
) -> IngestOutcome:
    """Relevance → duplicates → corpus → signals → events, for one topic.

    A `baseline` document (what a feed lists when first polled) and one published before
    the topic's (or feed's) `max_age` move figures and sightings without alerts.
    """
    if not is_relevant(document.text, topic, document.title, document.language):
        return IngestOutcome("off_topic")
    store = rt.store
    corpus = Corpus(rt.config.corpus_dir(topic))
    # The CPU-heavy reading happens before the topic lock; under it, only decisions and
    # writes, so workers on one topic wait on each other as little as possible.
    sha = text_sha256(document.text)
    fingerprint = dedupe.fingerprint(document.text, topic.duplicate_threshold)
    # Whether it will alert decides what is read of its names (see `read_signals`); it is
    # settled under the lock, where time has only moved on (a document can only turn too
    # old), and what that changes is read there.
    expected = not baseline and not _too_old(rt, topic, feed_key, document, datetime.now(UTC))
    signals = read_signals(topic, document.text, document, rt.outlets, emit=expected)
    # Its text is written and flushed to disk before the lock too, under a temporary
    # name: under the lock, a new document or a revision is only named, its folder and
    # manifest flushed. Every fsync under the lock is waited out by the topic's other
    # workers. A draft not needed (unchanged, a copy, a failure) is removed.
    with (
        corpus.drafted(document.text) as draft,
        # What the decisions below read, in the round trip that takes the lock.
        store.locked_view(topic.id, document.id, sha, fingerprint.bands, rt.topic_lock_ttl) as view,
    ):
        if not view.ready:
            bootstrap_topic(rt, topic)
            view = store.topic_view(topic.id, document.id, sha, fingerprint.bands)
        now = datetime.now(UTC)
        fetched = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        emit = not baseline and not _too_old(rt, topic, feed_key, document, now)
        if emit != expected:
            signals = read_signals(topic, document.text, document, rt.outlets, emit=emit)
        existing = view.held
        if existing is not None and not _may_revise(existing, document):
            # Another site's page claims this document's identity: it is kept apart under
            # its own URL (and may still turn out a copy), never written over the original.
            log.warning(
                "%s claims the identity of %s, held from %s; kept apart, not replacing it",
                document.url,
                existing.file,
                existing.url,
            )
            document = own_identity(document)
            existing = store.document(topic.id, document.id)
        if existing is not None:
            if existing.sha256 == sha:
                return IngestOutcome("unchanged", existing.file)
            status: IngestStatus = "revision"
            name = existing.file
            revision = existing.revision + 1
            previous: str | None = corpus.read_document(name)
            corpus.place(draft, name)
            record = _manifest(document, name, feed_key, fetched, sha, revision=revision)
        else:
            recent = corpus.recent_lines()
            kept = _written_but_forgotten(recent, document.id, sha)
            if kept is not None:
                # Written just before Redis lost its last second (a crash): held again as
                # it is on disk, not written a second time under a new number.
                store.hold_document(
                    topic.id,
                    document.id,
                    _held(kept, document),
                    fingerprint.signature,
                    fingerprint.bands,
                )
                ref = _document_ref(document, kept.file, fetched)
                events = apply_signals(rt, topic, signals, ref, emit=emit)
                return IngestOutcome("unchanged", kept.file, events)
            original = _find_original(rt, topic, view, fingerprint)
            if original is not None:
                original_id, score = original
                held = store.document(topic.id, original_id)
                record = _manifest(
                    document,
                    None,
                    feed_key,
                    fetched,
                    sha,
                    duplicate_of=original_id,
                    similarity=round(score, 3),
                )
                corpus.append(record)
                # The whole copy is read: sentences it shares with the original only add
                # its outlet as a source; those that differ can move a figure.
                ref = _document_ref(document, held.file if held else None, fetched)
                events = apply_signals(rt, topic, signals, ref, emit=emit, copy_of=original_id)
                return IngestOutcome("copy", None, events)
            status = "new"
            # Handed out with the view when nothing could be its original; a number handed
            # out and then not used (held again above, after a crash) is skipped.
            sequence = view.number
            if sequence is None:
                sequence = store.next_sequence(topic.id, lambda: _sequence_floor(rt, topic))
            # A counter that lost its last increments (the same crash) never hands out a
            # number a file already has.
            last_written = _last_number(recent)
            if sequence <= last_written:
                sequence = last_written + 1
                store.set_sequence(topic.id, sequence)
            name = file_name(sequence, document.id)
            corpus.place(draft, name)
            revision = 0
            previous = None
            record = _manifest(document, name, feed_key, fetched, sha)
        try:
            corpus.append(record)
        except OSError:
            # A full disk or an I/O error fails the entry, which is retried; the file goes
            # back to what the manifest says, so no document exists that it does not name.
            corpus.restore_document(name, previous)
            raise
        store.hold_document(
            topic.id, document.id, _held(record, document), fingerprint.signature, fingerprint.bands
        )
        ref = _document_ref(document, name, fetched)
        events = apply_signals(rt, topic, signals, ref, emit=emit)
        return IngestOutcome(status, name, events)


def _written_but_forgotten(recent: list[str], doc_id: str, sha: str) -> ManifestRecord | None:
    """The manifest line of this very text under this identity, if written lately."""
    for line in reversed(recent):
        if doc_id in line and sha in line:
            record = parse_record(line)
            if record and record.id == doc_id and record.sha256 == sha and record.file:
                return record
    return None


# A manifest line's file (its first field, `ManifestRecord.to_json`), found without parsing
# the line: every new document reads the manifest's last lines under the topic lock.
_FILE_FIELD = re.compile(r'\{"file": "([^"\\]+)"')


def _last_number(recent: list[str], lines: int = 64) -> int:
    """The highest document number among the manifest's last lines (-1: none). A torn
    line's number counts as used too: a number is never handed out twice, at worst one
    is skipped."""
    numbers = [-1]
    for line in recent[-lines:]:
        for name in _FILE_FIELD.findall(line):
            with contextlib.suppress(ValueError):  # cut short in a torn line
                numbers.append(sequence_of(name))
    return max(numbers)


def _held(record: ManifestRecord, document: Document) -> HeldDocument:
    """What the store keeps of a document written as `record` says."""
    assert record.file is not None
    return HeldDocument(
        file=record.file,
        sha256=record.sha256,
        url=document.url,
        title=document.title,
        source=document.source,
        revision=record.revision,
        published=record.published,
    )


def _may_revise(held: HeldDocument, document: Document) -> bool:
    """Only a page from the held document's own site (or its very URL: a local file has
    no site) may replace its text."""
    return (
        held.folder != "corpus"
        or not held.url
        or held.url == document.url
        or same_site(held.url, document.url)
    )


def _too_old(
    rt: Runtime, topic: TopicSettings, feed_key: str | None, document: Document, now: datetime
) -> bool:
    """Published longer ago than the feed's `max_age`, else the topic's: never alerts."""
    if document.published is None:
        return False
    feed = rt.feed(feed_key) if feed_key else None
    max_age = feed.max_age if feed and feed.max_age else topic.max_age
    published = document.published
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return (now - published).total_seconds() > max_age


def _manifest(
    document: Document,
    name: str | None,
    feed_key: str | None,
    fetched: str,
    sha: str,
    *,
    duplicate_of: str | None = None,
    revision: int = 0,
    similarity: float | None = None,
) -> ManifestRecord:
    return ManifestRecord(
        file=name,
        id=document.id,
        url=document.url,
        canonical_url=document.canonical_url,
        title=document.title,
        source=document.source,
        feed=feed_key,
        published=document.published.isoformat() if document.published else None,
        fetched=fetched,
        language=document.language,
        sha256=sha,
        duplicate_of=duplicate_of,
        revision=revision,
        similarity=similarity,
        date_source=document.date_source if document.published else None,
    )


def _find_original(
    rt: Runtime, topic: TopicSettings, view: TopicView, fingerprint: dedupe.Fingerprint
) -> tuple[str, float] | None:
    if view.same_text is not None:
        return view.same_text, 1.0
    candidates = sorted(view.candidates)
    best: tuple[str, float] | None = None
    for doc_id, signature in rt.store.signatures(topic.id, candidates).items():
        score = dedupe.similarity(fingerprint.signature, signature)
        if score >= topic.duplicate_threshold and (best is None or score > best[1]):
            best = (doc_id, score)
    return best


def read_article(
    rt: Runtime, item: str, source: str | None = None, learn: bool = True
) -> Document | None:
    """The document of a URL or a local file (HTML, or plain text with a paragraph a line).

    `learn=False` reads it without touching the store (`explain`)."""
    if item.startswith(("http://", "https://")):
        html, url = fetch_page(rt, item)
        return page_to_document(rt, html, url, source or source_name(url), learn=learn)
    path = Path(item)
    if not path.is_file():
        raise NewswatchError(
            f"{item}: {'a folder, not a file' if path.is_dir() else 'no such file'}"
        )
    # The cap on every download holds for a file too: its reading is as costly.
    limit = rt.policy.max_bytes
    with path.open("rb") as stream:
        raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise TooLargeError(item, f"larger than max_download_bytes ({limit:,} bytes)")
    url = path.resolve().as_uri()
    text = decode_html(raw)
    if "<" in text[:2000]:
        return page_to_document(rt, text, url, source or "file", learn=learn)
    return page_to_document(
        rt,
        None,
        url,
        source or "file",
        fallback_html=text,
        title=path.stem,
        link=url,
        learn=learn,
    )


def reindex_topic(rt: Runtime, topic: TopicSettings) -> int:
    """Rebuild a topic's indexes from its seeds and corpus (after `flush_indexes`);
    returns the next document number."""
    with rt.store.topic_lock(topic.id):
        bootstrap_topic(rt, topic)
    floor = _sequence_floor(rt, topic)
    rt.store.set_sequence(topic.id, floor)
    return floor + 1


def _sequence_floor(rt: Runtime, topic: TopicSettings) -> int:
    """The highest sequence number already used by the corpus or its seeds."""
    used = [d.sequence for d in list_documents(rt.config.corpus_dir(topic))]
    used += [d.sequence for d in list_documents(rt.config.seeds_dir(topic))]
    return max(used, default=0)


# -- signals → events ----------------------------------------------------------------------


def _document_ref(document: Document, file: str | None, fetched: str) -> DocumentRef:
    """How readings and alerts cite a document; an undated one is dated by its fetch."""
    published = document.published.isoformat() if document.published else None
    return DocumentRef(
        id=document.id,
        file=file,
        url=document.url,
        title=document.title,
        source=document.source,
        published=published or fetched,
        date_source=document.date_source if published else "fetched",
        language=document.language,
    )


@dataclass(frozen=True)
class Signals:
    """What a text says, read without the store: done outside the topic lock."""

    observations: tuple[FigureObservation, ...]
    entities: tuple[tuple[str, str], ...]  # (entity id, first sentence naming it)
    names: tuple[str, ...]  # untracked proper names
    name_keys: frozenset[str]  # every capitalised word sequence, for seeds


def read_signals(
    topic: TopicSettings,
    text: str,
    document: Document,
    outlets: frozenset[str] = frozenset(),
    *,
    emit: bool | None = None,
) -> Signals:
    """Figures, tracked entities and the names that may be emerging, of a document's text.

    `outlets` are the configured source names, which are never suggested as names. What
    `apply_signals` uses of the names depends on whether the document alerts: a document
    that does (`emit` true) needs its untracked names and the sentences quoting its
    entities, one that does not (false) the keys of all its names; None reads both.
    """
    split = sentences(text) if emit is not False else []
    entities = []
    for entity in sorted(tracked_entities(text, topic, document.title)):
        quote = ""
        if emit is not False:
            pattern = name_pattern(tuple(topic.entities[entity]))
            quote = next((s.text for s in split if pattern.search(fold(s.text))), "")
        entities.append((entity, quote))
    names: set[str] = set()
    if emit is not False:
        names = emerging_names(
            text, document.language, topic, outlets | {document.source}, split=split
        )
    return Signals(
        observations=tuple(observe_figures(text, document.language, topic, document.title)),
        entities=tuple(entities),
        names=tuple(sorted(names)),
        name_keys=frozenset(all_name_keys(text)) if emit is not True else frozenset(),
    )


def apply_signals(
    rt: Runtime,
    topic: TopicSettings,
    signals: Signals,
    ref: DocumentRef,
    *,
    emit: bool,
    copy_of: str | None = None,
) -> list[AlertEvent]:
    """Move figures and sightings by what a document says; store and return new events.

    Called under the topic lock. With `emit` off (seeds, documents already held, a feed's
    first poll, entries past `max_age`) state moves without events. A copy (`copy_of` its
    original) adds its outlet as a source but neither confirms a reading nor counts as a
    further document for emerging names.
    """
    store = rt.store
    events: list[AlertEvent] = []
    original = copy_of or ref.id
    # Each figure's state and history are read once per document and written once after
    # its last observation: a page may state one figure many times, and reparsing a long
    # history for each was most of this function's cost.
    states: dict[str, FigureState] = {}
    histories: dict[str, list[FigureStep]] = {}
    moved: set[str] = set()
    rewritten: set[str] = set()
    for observation in signals.observations:
        settings = topic.figures[observation.figure]
        reading = FigureReading(
            value=observation.value,
            upper=observation.upper,
            qualifier=observation.qualifier,
            quote=observation.quote,
            document=ref,
            sources=(ref.source,),
            documents=(original,),
        )
        figure = observation.figure
        if figure not in states:
            states[figure] = store.figure(topic.id, figure)
        before = states[figure]
        verdict, after = judge(before, reading, settings)
        if after != before:
            states[figure] = after
            moved.add(figure)
        if verdict not in ("held", "ignored"):  # the only verdicts that never touch history
            if figure not in histories:
                histories[figure] = store.figure_history(topic.id, figure)
            steps = record_step(histories[figure], verdict, before, after, reading, settings)
            if steps is not None:
                histories[figure] = steps
                rewritten.add(figure)
        if emit and verdict in ("first", "changed", "confirmed"):
            assert after.confirmed is not None
            events.append(
                alert_events.figure_changed(
                    topic.id, observation.figure, settings, before.confirmed, after.confirmed
                )
            )
    for figure in moved:
        store.save_figure(topic.id, figure, states[figure])
    for figure in rewritten:
        store.save_figure_history(topic.id, figure, histories[figure])
    # Entities sighted and names read in one trip: a document that alerts counts its
    # untracked names (those with a word the seeds and first-loaded documents never
    # use), one that does not teaches its names.
    seen = [entity for entity, _ in signals.entities]
    counted: dict[str, tuple[int, int]] = {}
    if emit:
        words = {name: fold(name).split() for name in signals.names}
        first, counted = store.record_sightings(topic.id, seen, words, original, ref.source)
    else:
        first = store.first_sightings(topic.id, seen, signals.name_keys)
    for entity, quote in signals.entities:
        if entity in first and emit:
            first.discard(entity)  # an entity quoted twice is seen first once
            names = topic.entities[entity]
            events.append(alert_events.entity_first_seen(topic.id, entity, names, quote, ref))
    for name, (documents, sources) in counted.items():
        if documents < topic.emerging.min_documents or sources < topic.emerging.min_sources:
            continue
        # "Belousov" after "Andrei Belousov" (or the reverse) is no new suggestion.
        if any(same_entity(name, other) for other in store.emerged_names(topic.id)):
            continue
        store.add_emerged_name(topic.id, name)
        events.append(alert_events.entity_emerging(topic.id, name, documents, sources, ref))
    return [event for event in events if store.save_event(event)]


def bootstrap_topic(rt: Runtime, topic: TopicSettings) -> None:
    """Index the seeds and documents already held, setting figures without alerts.

    Called under the topic lock; does nothing once the topic is loaded.
    """
    store = rt.store
    if store.is_bootstrapped(topic.id):
        return
    held: list[tuple[Literal["seeds", "corpus"], StoredDocument]] = [
        ("seeds", d) for d in list_documents(rt.config.seeds_dir(topic))
    ]
    corpus = Corpus(rt.config.corpus_dir(topic))
    latest = {record.id: record for record in corpus.records() if record.file}
    held += [("corpus", d) for d in corpus.documents()]
    refs: list[tuple[DocumentRef, str, str]] = []
    for folder, stored in held:
        text = stored.read()
        record = latest.get(stored.id)
        ref = DocumentRef(
            id=stored.id,
            file=stored.path.name,
            url=record.url if record else "",
            title=record.title if record else "",
            source=record.source if record else folder,
            # The manifest keeps each document's date, so a rebuilt history keeps them.
            published=(record.published or record.fetched) if record else None,
            date_source=_manifest_date_source(record),
            language=(record.language if record else None) or _seed_language(text),
        )
        refs.append((ref, text, folder))
        sha = text_sha256(text)
        fingerprint = dedupe.fingerprint(text, topic.duplicate_threshold)
        store.hold_document(
            topic.id,
            stored.id,
            HeldDocument(
                file=stored.path.name,
                sha256=sha,
                url=ref.url,
                title=ref.title,
                source=ref.source,
                folder=folder,
                revision=record.revision if record else 0,
                published=record.published if record else None,
            ),
            fingerprint.signature,
            fingerprint.bands,
        )
    # In publication order (undated seeds first), as if they had arrived in that order.
    for ref, text, _ in sorted(refs, key=lambda item: item[0].published or ""):
        document = Document(
            id=ref.id,
            url=ref.url,
            canonical_url=ref.url,
            title=ref.title,
            text=text,
            published=None,
            language=ref.language,
            source=ref.source,
        )
        apply_signals(rt, topic, read_signals(topic, text, document, emit=False), ref, emit=False)
    store.mark_bootstrapped(topic.id)
    log.info("topic %s loaded: %d documents held", topic.id, len(held))


def _manifest_date_source(record: ManifestRecord | None) -> DateSource:
    if record is None:
        return "unknown"
    if not record.published:
        return "fetched"
    if record.date_source == "page":
        return "page"
    return "feed" if record.date_source == "feed" else "unknown"


def _seed_language(text: str) -> str | None:
    from worker.articles.language import detect_language

    return detect_language(text)


# -- deliveries ----------------------------------------------------------------------------

# Seconds between two tries at recording a delivery made while Redis was unreachable.
RECORD_RETRY_EVERY = 0.5


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one delivery attempt came to."""

    state: Literal["delivered", "retrying", "failed", "digest", "skipped"]
    detail: str = ""
    retry_in: float | None = None


def route_event(rt: Runtime, event: AlertEvent, *, dry_run: bool = False) -> list[str]:
    """Record a pending delivery per channel the event is routed to; return those channels.

    In a dry run the delivery is recorded as `dry_run` and nothing is to be sent.
    """
    channels = alert_events.channels_for(event, rt.config.alerts)
    if dry_run or rt.config.service.dry_run:
        for channel in channels:
            rt.store.save_delivery(event.id, channel, Delivery("dry_run", updated=time.time()))
            log.warning("dry run: would send %s to %s: %s", event.id, channel, summary_line(event))
        return []
    for channel in channels:
        if rt.store.delivery(event.id, channel) is None:
            rt.store.save_delivery(event.id, channel, Delivery(updated=time.time()))
    return channels


def deliver_now(rt: Runtime, event: AlertEvent) -> dict[str, DeliveryOutcome]:
    """Route an event and make one delivery attempt per channel in this process (`ingest`,
    `alerts --resend`): failures are scheduled for retry like any other delivery."""
    outcomes = {channel: deliver(rt, event.id, channel) for channel in route_event(rt, event)}
    rt.store.routed(event.id)
    return outcomes


def route_unrouted(rt: Runtime, event_id: str, now: float) -> None:
    """Route an event whose task was lost after saving it: each delivery not yet recorded,
    or recorded but never scheduled, is made due now. Deliveries already scheduled or
    made are left alone, so none is sent twice."""
    event = rt.store.event(event_id)
    if event is not None and rt.config.service.dry_run:
        route_event(rt, event)
    elif event is not None:
        for channel in alert_events.channels_for(event, rt.config.alerts):
            member = f"{event_id}|{channel}"
            state = rt.store.delivery(event_id, channel)
            if state is None:
                rt.store.save_delivery(event_id, channel, Delivery(updated=now))
            elif (
                state.state != "pending"
                or state.detail == "in digest"
                or rt.store.is_scheduled("deliveries", member)
            ):
                continue
            log.warning(
                "event %s was saved but not routed; scheduling it for %s", event_id, channel
            )
            rt.store.schedule("deliveries", member, now)
    rt.store.routed(event_id)


def deliver(
    rt: Runtime, event_id: str, channel_name: str, now: float | None = None
) -> DeliveryOutcome:
    """One delivery attempt; records the state and schedules the retry if one is due.

    The attempt holds the delivery's claim from before it reads the delivery's state until
    its outcome is recorded, so an attempt handed out again meanwhile (by the tick, once
    the lease ran out while this one was held up) sends nothing: both would find the
    delivery pending and both send the event. The claim is the attempt's own, not its
    task's: a copy of the task's message redelivered while it still runs (its worker lost
    Redis) is another attempt."""
    now = time.time() if now is None else now
    store = rt.store
    member = f"{event_id}|{channel_name}"
    event = store.event(event_id)
    channel = rt.config.alerts.channels.get(channel_name)
    if channel is None and channel_name in rt.config.unresolved:
        # Loaded without the channel's secrets (a dry run): left due for a process with them.
        log.error("delivery of %s not sent: %s", event_id, rt.config.unresolved[channel_name])
        return DeliveryOutcome("skipped", rt.config.unresolved[channel_name])
    if event is None or channel is None:
        store.unschedule("deliveries", member)
        log.error("delivery of %s to %s skipped: unknown event or channel", event_id, channel_name)
        return DeliveryOutcome("skipped", "unknown event or channel")
    token = uuid.uuid4().hex
    ttl = rt.delivery_claim_ttl
    # The outcome is recorded while a quarter of the claim is left (for the last try, and
    # Redis's clock against this one), so no other attempt can have taken it by then.
    record_by = time.monotonic() + ttl * 0.75
    if not store.claim_delivery(event_id, channel_name, token, ttl):
        log.info("delivery of %s to %s left to the attempt making it", event_id, channel_name)
        return DeliveryOutcome("skipped", "another attempt is making it")
    try:
        return _attempt(rt, event, channel_name, channel, now, record_by)
    finally:
        _let_go(rt, event_id, channel_name, token)


def _attempt(
    rt: Runtime,
    event: AlertEvent,
    channel_name: str,
    channel: Channel,
    now: float,
    record_by: float,
) -> DeliveryOutcome:
    """The attempt of `deliver`, its claim held."""
    store = rt.store
    member = f"{event.id}|{channel_name}"
    state = store.delivery(event.id, channel_name) or Delivery()
    if state.state == "delivered":
        store.unschedule("deliveries", member)
        return DeliveryOutcome("delivered", "already delivered")
    if rt.config.service.dry_run:
        # A retry due from before a dry run waits for a real run.
        return DeliveryOutcome("skipped", "dry run")
    disabled = store.channel_disabled(channel_name)
    if disabled:
        store.save_delivery(
            event.id, channel_name, replace(state, state="failed", last_error=disabled, updated=now)
        )
        store.unschedule("deliveries", member)
        return DeliveryOutcome("failed", disabled)
    if isinstance(channel, EmailChannel) and channel.digest:
        # The digest is sent by flush_digests; the event joins it once, even when this
        # task runs again (a redelivery, or the tick re-enqueuing a lease that ran out).
        if state.detail != "in digest":
            joined = replace(state, state="pending", detail="in digest", updated=now)
            store.join_digest(channel_name, event.id, joined, now)
        store.unschedule("deliveries", member)
        return DeliveryOutcome("digest")
    attempts = state.attempts + 1
    try:
        send(channel_name, channel, event, client=rt.client, service=rt.config.service)
    except DeliveryError as error:
        return _delivery_failed(rt, event.id, channel_name, state, error, now)
    delivered = replace(
        state,
        state="delivered",
        attempts=attempts,
        last_error=None,
        next_attempt=None,
        delivered_at=now,
        updated=now,
    )
    _record_delivered(rt, event.id, channel_name, delivered, record_by)
    log.info("event %s delivered to %s (attempt %d)", event.id, channel_name, attempts)
    return DeliveryOutcome("delivered")


def _record_delivered(
    rt: Runtime, event_id: str, channel_name: str, delivered: Delivery, record_by: float
) -> None:
    """Record a delivery its receiver has accepted, and take it off the schedule.

    Redis unreachable just then (gone as the event went out) is waited for until
    `record_by` (monotonic): left pending and due, the delivery would be handed out again
    by the tick once Redis is back, and the event sent a second time."""

    def record() -> None:
        rt.store.save_delivery(event_id, channel_name, delivered)
        rt.store.unschedule("deliveries", f"{event_id}|{channel_name}")

    _record_sent(record, f"event {event_id} delivered to {channel_name}", record_by)


def _record_sent(record: Callable[[], object], sent: str, record_by: float) -> None:
    """Call `record`, the record of what a receiver has accepted (`sent` says what), again
    every RECORD_RETRY_EVERY seconds while Redis is unreachable, until `record_by`
    (monotonic): given up on, what was sent is sent again once Redis is back."""
    while True:
        try:
            record()
            return
        except STORE_UNREACHABLE:
            if time.monotonic() + RECORD_RETRY_EVERY >= record_by:
                log.error("%s but Redis could not record it in time: it may be sent again", sent)
                raise
            log.warning(
                "%s; Redis is unreachable, recording it again in %.1f s", sent, RECORD_RETRY_EVERY
            )
            time.sleep(RECORD_RETRY_EVERY)


def _let_go(rt: Runtime, event_id: str, channel_name: str, token: str) -> None:
    """Release an attempt's claim; if Redis is unreachable, the claim runs out by itself."""
    try:
        rt.store.release_delivery(event_id, channel_name, token)
    except STORE_ERRORS as error:
        log.warning("claim on %s to %s left to run out: %s", event_id, channel_name, error)


def send_now(rt: Runtime, event: AlertEvent, channel_name: str) -> DeliveryOutcome:
    """One attempt now, outside the alert log (`test-alert`): no digest, no retry."""
    channel = rt.config.alerts.channels[channel_name]
    try:
        send(channel_name, channel, event, client=rt.client, service=rt.config.service)
    except DeliveryError as error:
        return DeliveryOutcome("failed", error.reason)
    return DeliveryOutcome("delivered")


def _delivery_failed(
    rt: Runtime,
    event_id: str,
    channel_name: str,
    before: Delivery,
    error: DeliveryError,
    now: float,
) -> DeliveryOutcome:
    store = rt.store
    attempts = before.attempts + 1
    if error.disable:
        store.set_channel_disabled(channel_name, error.reason)
        log.error("channel %s disabled: %s", channel_name, error.reason)
    delay = next_retry_delay(attempts, error.retry_after) if error.retryable else None
    if delay is None:
        store.save_delivery(
            event_id,
            channel_name,
            replace(
                before,
                state="failed",
                attempts=attempts,
                last_error=error.reason,
                next_attempt=None,
                updated=now,
            ),
        )
        store.unschedule("deliveries", f"{event_id}|{channel_name}")
        log.error(
            "event %s to %s failed for good after %d attempts: %s",
            event_id,
            channel_name,
            attempts,
            error.reason,
        )
        return DeliveryOutcome("failed", error.reason)
    store.save_delivery(
        event_id,
        channel_name,
        replace(
            before,
            state="retrying",
            attempts=attempts,
            last_error=error.reason,
            next_attempt=now + delay,
            updated=now,
        ),
    )
    store.schedule("deliveries", f"{event_id}|{channel_name}", now + delay)
    log.warning(
        "event %s to %s failed (attempt %d: %s); retrying in %.0f s",
        event_id,
        channel_name,
        attempts,
        error.reason,
        delay,
    )
    return DeliveryOutcome("retrying", error.reason, delay)


def flush_digests(rt: Runtime, now: float | None = None, force: bool = False) -> int:
    """Send each email channel's digest whose window has passed; returns messages sent.

    Each is sent under the digest's claim, held until what was sent is recorded, so a
    tick running beside this one, or after Redis went away as the message went out and
    came back, sends nothing twice (as `deliver` for one event)."""
    now = time.time() if now is None else now
    sent = 0
    for name, channel in rt.config.alerts.channels.items():
        if not isinstance(channel, EmailChannel) or not channel.digest:
            continue
        if not (force or rt.store.digest_due(name, channel.digest, now)):
            continue
        token = uuid.uuid4().hex
        ttl = rt.delivery_claim_ttl
        record_by = time.monotonic() + ttl * 0.75  # as `deliver`'s
        if not rt.store.claim_digest(name, token, ttl):
            log.info("digest for %s left to the attempt sending it", name)
            continue
        try:
            # Asked again under the claim: another attempt may have sent it meanwhile.
            if force or rt.store.digest_due(name, channel.digest, now):
                sent += _send_digest(rt, name, channel, now, record_by)
        finally:
            try:
                rt.store.release_digest(name, token)
            except STORE_ERRORS as error:
                log.warning("claim on the digest for %s left to run out: %s", name, error)
    return sent


def _send_digest(
    rt: Runtime, name: str, channel: EmailChannel, now: float, record_by: float
) -> int:
    """Send the channel's digest, its claim held; 1 when a message went out."""
    pending = rt.store.digest_pending(name)
    events = [e for e in (rt.store.event(i) for i in pending) if e is not None]
    if not events:
        rt.store.close_digest(name, pending, {}, now)
        return 0
    # Read before the message goes, so that only its record waits on Redis after.
    delivered = {
        e.id: replace(
            rt.store.delivery(e.id, name) or Delivery(),
            state="delivered",
            delivered_at=now,
            updated=now,
            detail="digest",
        )
        for e in events
    }
    try:
        send_email(name, channel, rt.config.service.smtp, events)
    except DeliveryError as error:
        _digest_failed(rt, name, [e.id for e in events], pending, error, now)
        return 0
    _record_sent(
        lambda: rt.store.close_digest(name, pending, delivered, now),
        f"digest of {len(events)} event(s) sent to {name}",
        record_by,
    )
    log.info("digest of %d event(s) sent to %s", len(events), name)
    return 1


def _digest_failed(
    rt: Runtime,
    name: str,
    event_ids: list[str],
    pending: list[str],
    error: DeliveryError,
    now: float,
) -> None:
    """A digest the server refused: retried on the webhook schedule, each event's delivery
    showing the error, and given up (recorded as failed) when the schedule runs out."""
    attempts = rt.store.digest_attempts(name) + 1
    delay = next_retry_delay(attempts, error.retry_after) if error.retryable else None
    failed = {
        event_id: replace(
            rt.store.delivery(event_id, name) or Delivery(),
            state="failed" if delay is None else "retrying",
            attempts=attempts,
            last_error=error.reason,
            next_attempt=None if delay is None else now + delay,
            updated=now,
        )
        for event_id in event_ids
    }
    if delay is None:
        rt.store.close_digest(name, pending, failed, now)
        log.error(
            "digest for %s failed for good after %d attempts: %s", name, attempts, error.reason
        )
        return
    for event_id, delivery in failed.items():
        rt.store.save_delivery(event_id, name, delivery)
    rt.store.digest_failed(name, attempts, now + delay)
    log.warning(
        "digest for %s not sent (attempt %d: %s); retrying in %.0f s",
        name,
        attempts,
        error.reason,
        delay,
    )

"""The feeds stage: one refresh of one feed, from its stored state to its entries.

`refresh` knows the order (conditional fetch → body hash → parse → schedule) and returns
the feed's next state; it knows nothing of Redis or Celery.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

from worker.errors import FetchError, HTTPStatusError, ParseError, WebPageError
from worker.feeds.parse import Entry, ParsedFeed, parse_feed
from worker.feeds.schedule import Schedule, adaptive_interval, backoff_interval
from worker.net import FetchPolicy, Validators, fetch

__all__ = [
    "Discovery",
    "Entry",
    "FeedState",
    "ParsedFeed",
    "PollOutcome",
    "Schedule",
    "discover",
    "refresh",
]

log = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)

# Some servers keep the same ETag while the body changes; every Nth poll ignores
# validators so such a feed is never stuck.
UNCONDITIONAL_EVERY = 10


@dataclass(frozen=True)
class FeedState:
    """What newswatch remembers of a feed between polls."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_success: float | None = None
    last_error: str | None = None
    consecutive_errors: int = 0
    failing_since: float | None = None
    failing_alerted: bool = False
    next_poll: float = 0.0
    interval: float = 0.0
    entries_seen: int = 0
    polls: int = 0
    retired: bool = False


Status = Literal["changed", "not_modified", "unchanged_body", "error", "retired"]


@dataclass(frozen=True)
class PollOutcome:
    state: FeedState
    status: Status
    entries: tuple[Entry, ...] = ()
    error: str | None = None
    feed: ParsedFeed | None = field(default=None, repr=False)


def refresh(
    state: FeedState,
    client: httpx.Client,
    policy: FetchPolicy,
    schedule: Schedule,
    now: float | None = None,
) -> PollOutcome:
    """Poll one feed once; never raises for a broken feed, the outcome says what happened."""
    now = time.time() if now is None else now
    polls = state.polls + 1
    conditional = polls % UNCONDITIONAL_EVERY != 0
    validators = Validators(state.etag, state.last_modified) if conditional else None
    try:
        result = fetch(client, state.url, policy, validators, accept=FEED_ACCEPT)
    except HTTPStatusError as error:
        if error.status == 410:
            log.warning("feed %s is gone (HTTP 410); retiring it", state.url)
            return PollOutcome(
                replace(
                    state,
                    retired=True,
                    polls=polls,
                    last_error="HTTP 410 Gone",
                    next_poll=float("inf"),
                ),
                "retired",
                error="HTTP 410 Gone",
            )
        return _failed(state, polls, str(error), schedule, now, error.retry_after)
    except FetchError as error:
        return _failed(state, polls, str(error), schedule, now)

    url = result.permanent_redirect or state.url
    if result.permanent_redirect:
        log.info("feed %s moved permanently to %s", state.url, url)
    ok = replace(
        state,
        url=url,
        polls=polls,
        last_success=now,
        last_error=None,
        consecutive_errors=0,
        failing_since=None,
        etag=result.validators.etag or state.etag,
        last_modified=result.validators.last_modified or state.last_modified,
    )
    # The interval learnt from earlier polls, within today's bounds: the config may have
    # changed since, and a feed set to 1m must not wait the 10m it had before.
    known = schedule.bound(state.interval or schedule.interval)
    if result.not_modified:
        return PollOutcome(_next(ok, known, now), "not_modified")

    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == state.body_hash:
        return PollOutcome(_next(ok, known, now), "unchanged_body")
    try:
        parsed = parse_feed(result.body, result.final_url)
    except ParseError as error:
        return _failed(state, polls, str(error), schedule, now)
    interval = adaptive_interval([e.published for e in parsed.entries if e.published], schedule)
    ok = replace(ok, body_hash=body_hash)
    return PollOutcome(_next(ok, interval, now), "changed", parsed.entries, feed=parsed)


def _next(state: FeedState, interval: float, now: float) -> FeedState:
    return replace(state, interval=interval, next_poll=now + interval)


def _failed(
    state: FeedState,
    polls: int,
    error: str,
    schedule: Schedule,
    now: float,
    retry_after: float | None = None,
) -> PollOutcome:
    errors = state.consecutive_errors + 1
    log.warning("feed %s failed (%d in a row): %s", state.url, errors, error)
    delay = backoff_interval(errors, schedule.minimum, schedule.maximum, retry_after)
    failed = replace(
        state,
        polls=polls,
        last_error=error,
        consecutive_errors=errors,
        failing_since=state.failing_since or now,
        next_poll=now + delay,
    )
    return PollOutcome(failed, "error", error=error)


@dataclass(frozen=True)
class Discovery:
    """The feed found for a URL: the URL itself, or a feed its page advertises."""

    url: str
    page: str | None = None  # the web page that advertised it
    others: tuple[str, ...] = ()  # further feeds the page advertised


def discover(client: httpx.Client, url: str, policy: FetchPolicy) -> Discovery:
    """Fetch `url`: a feed is itself; a page leads to the first feed it advertises, which
    must itself parse as a feed (`feeds add --discover`). Raises FetchError or ParseError
    saying why not."""
    result = fetch(client, url, policy, accept=FEED_ACCEPT)
    try:
        parse_feed(result.body, result.final_url)
    except WebPageError as page:
        if not page.feeds:
            raise
        first, *others = page.feeds
        feed = fetch(client, first, policy, accept=FEED_ACCEPT)
        parse_feed(feed.body, feed.final_url)
        return Discovery(first, url, tuple(others))
    return Discovery(url)

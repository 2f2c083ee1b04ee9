"""When to poll a feed next: never later than its interval, sooner when it publishes often,
backing off on errors."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise


@dataclass(frozen=True)
class Schedule:
    """A feed's polling bounds, as the user wrote them.

    `interval` (the feed's own `interval`, else `poll_interval`) is the longest a healthy
    feed waits between polls; a feed that publishes more often is polled sooner, but not
    sooner than `minimum`; `maximum` caps the backoff after errors.
    """

    interval: float
    minimum: float
    maximum: float

    @classmethod
    def for_feed(
        cls,
        feed_interval: float | None,
        poll_interval: float,
        min_poll_interval: float,
        max_poll_interval: float,
    ) -> Schedule:
        """The bounds of one feed: an interval shorter than `min_poll_interval` wins (the
        user asked for it), and so does one longer than `max_poll_interval`."""
        interval = feed_interval or poll_interval
        return cls(interval, min(min_poll_interval, interval), max(max_poll_interval, interval))

    def bound(self, seconds: float) -> float:
        return min(max(seconds, self.minimum), self.interval)


def adaptive_interval(published: Sequence[datetime], schedule: Schedule) -> float:
    """Half the median gap between recent entries, within the schedule's bounds.

    A feed that publishes every ten minutes is polled every five (with `min_poll_interval`
    at 5m); one that publishes weekly, or has fewer than two dated entries, at `interval`.
    """
    stamps = sorted(d.timestamp() for d in published)[-20:]
    gaps = sorted(b - a for a, b in pairwise(stamps) if b > a)
    if not gaps:
        return schedule.interval
    return schedule.bound(gaps[len(gaps) // 2] / 2)


def backoff_interval(
    consecutive_errors: int, base: float, maximum: float, retry_after: float | None = None
) -> float:
    """Exponential backoff with jitter; a server's Retry-After wins when it is longer."""
    exponent = min(consecutive_errors, 16)
    delay = min(base * (2 ** (exponent - 1)), maximum) if exponent else base
    delay *= random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, maximum)

"""When to poll a feed next: adaptive to its publishing rate, backing off on errors."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise


def adaptive_interval(
    published: Sequence[datetime], default: float, minimum: float, maximum: float
) -> float:
    """Half the median gap between recent entries, within [minimum, maximum].

    A feed that publishes hourly is polled every half hour; one that publishes weekly
    drifts to `maximum`. With fewer than two dated entries, `default` applies.
    """
    stamps = sorted(d.timestamp() for d in published)[-20:]
    gaps = sorted(b - a for a, b in pairwise(stamps) if b > a)
    if not gaps:
        return min(max(default, minimum), maximum)
    median = gaps[len(gaps) // 2]
    return min(max(median / 2, minimum), maximum)


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

"""The alerts stage: events, their routing, and delivery to webhook, email and Apprise."""

from __future__ import annotations

import random
from dataclasses import dataclass, fields
from typing import Any, Literal

# `dry_run`: recorded by `--dry-run`, never sent (`alerts --resend` sends it).
DeliveryStatus = Literal["pending", "retrying", "delivered", "failed", "dry_run"]


@dataclass(frozen=True)
class Delivery:
    """One event's delivery to one channel, as the alert log keeps it."""

    state: DeliveryStatus = "pending"
    attempts: int = 0
    last_error: str | None = None
    detail: str = ""  # "in digest", "digest", "already delivered"…
    next_attempt: float | None = None
    delivered_at: float | None = None
    updated: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Svix's schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 27.5 h,
# past the SPEC's 24 hours).
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


def next_retry_delay(attempts: int, retry_after: float | None = None) -> float | None:
    """Seconds until the next attempt after `attempts` failures; None when out of retries."""
    if attempts > len(RETRY_SCHEDULE):
        return None
    delay = RETRY_SCHEDULE[attempts - 1] * random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, min(retry_after, 86400.0))
    return delay

"""Shared network primitives every stage may import: the safe HTTP client and the
address rules it enforces (feeds, article pages and webhooks all go through them)."""

from worker.net.addresses import is_metadata_address, is_public_address
from worker.net.http import (
    FetchPolicy,
    FetchResult,
    Reply,
    Validators,
    check_url,
    fetch,
    make_client,
    post,
    retry_after_seconds,
)

__all__ = [
    "FetchPolicy",
    "FetchResult",
    "Reply",
    "Validators",
    "check_url",
    "fetch",
    "is_metadata_address",
    "is_public_address",
    "make_client",
    "post",
    "retry_after_seconds",
]

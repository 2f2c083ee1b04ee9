"""Webhook delivery, signed as the Standard Webhooks specification says.

Signature: `v1,` + base64(HMAC-SHA256(key, f"{msg_id}.{timestamp}.{body}")), where key is
the base64-decoded part of a `whsec_` secret; several secrets (rotation) give several
space-separated signatures. The `webhook-id` is the event id, the same on every retry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from worker.config import WebhookChannel
from worker.errors import DeliveryError, FetchError
from worker.feeds.fetch import check_url, is_blocked, retry_after_seconds


def sign(secrets: str, message_id: str, timestamp: int, body: bytes) -> str:
    signatures = []
    for secret in secrets.split():
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode("ascii"))
    return " ".join(signatures)


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def send_webhook(
    client: httpx.Client, name: str, channel: WebhookChannel, event: dict[str, Any], user_agent: str
) -> int:
    """POST one event; return the 2xx status or raise DeliveryError saying what to do next."""
    try:
        url = check_url(channel.url)
    except FetchError as error:
        raise DeliveryError(name, str(error), retryable=False) from error
    body = encode(event)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": user_agent,
        "webhook-id": event["id"],
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(channel.secret, event["id"], timestamp, body),
    }
    try:
        response = client.post(
            url, content=body, headers=headers, timeout=channel.timeout, follow_redirects=False
        )
    except httpx.TimeoutException as error:
        raise DeliveryError(name, f"timed out after {channel.timeout:g} s") from error
    except httpx.HTTPError as error:
        if is_blocked(error):
            raise DeliveryError(name, f"{url}: {error}", retryable=False) from error
        raise DeliveryError(name, f"{type(error).__name__}: {error}") from error
    status = response.status_code
    if 200 <= status < 300:
        return status
    if status == 410:
        raise DeliveryError(
            name,
            "HTTP 410 Gone: the receiver asked to stop; channel disabled",
            retryable=False,
            disable=True,
        )
    if status == 429 or status >= 500:
        raise DeliveryError(
            name,
            f"HTTP {status}",
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
    if 300 <= status < 400:
        raise DeliveryError(
            name,
            f"HTTP {status} redirect to {response.headers.get('location', '?')} (not followed)",
        )
    raise DeliveryError(name, f"HTTP {status}: the receiver refused the event", retryable=False)

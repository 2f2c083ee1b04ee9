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

import httpx

from worker.alerts.events import AlertEvent, payload
from worker.config import WebhookChannel
from worker.errors import BlockedAddressError, DeadlineError, DeliveryError, FetchError
from worker.net import check_url, post, retry_after_seconds


def sign(secrets: str, message_id: str, timestamp: int, body: bytes) -> str:
    signatures = []
    for secret in secrets.split():
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode("ascii"))
    return " ".join(signatures)


def encode(event: AlertEvent) -> bytes:
    return json.dumps(payload(event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def send_webhook(
    client: httpx.Client, name: str, channel: WebhookChannel, event: AlertEvent, user_agent: str
) -> int:
    """POST one event; return the 2xx status or raise DeliveryError saying what to do next."""
    try:
        check_url(channel.url)
    except FetchError as error:
        raise DeliveryError(name, str(error), retryable=False) from error
    body = encode(event)
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": user_agent,
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(channel.secret, event.id, timestamp, body),
    }
    try:
        # One deadline from connect to the last byte of the reply's headers; the reply's
        # body is never read, so a receiver that drips or floods it costs nothing.
        response = post(client, channel.url, body, headers, channel.timeout)
    except DeadlineError as error:
        raise DeliveryError(name, f"timed out after {channel.timeout:g} s") from error
    except BlockedAddressError as error:
        raise DeliveryError(name, str(error), retryable=False) from error
    except FetchError as error:
        raise DeliveryError(name, str(error)) from error
    status = response.status
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

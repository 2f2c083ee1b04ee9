"""Channel dispatch: one attempt to send events through a configured channel."""

from __future__ import annotations

import httpx

from worker.alerts.apprise import send_apprise
from worker.alerts.email import send_email
from worker.alerts.events import AlertEvent
from worker.alerts.webhook import send_webhook
from worker.config import AppriseChannel, Channel, EmailChannel, ServiceSettings, WebhookChannel


def send(
    name: str,
    channel: Channel,
    event: AlertEvent,
    *,
    client: httpx.Client,
    service: ServiceSettings,
) -> None:
    """Send one event through `channel`; raises DeliveryError saying whether to retry."""
    if isinstance(channel, WebhookChannel):
        send_webhook(client, name, channel, event, service.user_agent)
    elif isinstance(channel, EmailChannel):
        send_email(name, channel, service.smtp, [event])
    elif isinstance(channel, AppriseChannel):
        send_apprise(name, channel, event)

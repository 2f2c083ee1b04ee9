"""Other services (Slack, Matrix, Telegram…) through Apprise URLs, when apprise is installed."""

from __future__ import annotations

from worker.alerts.email import single_line
from worker.alerts.events import AlertEvent, summary_line
from worker.config import AppriseChannel
from worker.errors import DeliveryError


def send_apprise(name: str, channel: AppriseChannel, event: AlertEvent) -> None:
    try:
        import apprise
    except ImportError as error:
        raise DeliveryError(
            name, "apprise is not installed (pip install 'newswatch[apprise]')", retryable=False
        ) from error
    notifier = apprise.Apprise()
    for url in channel.urls:
        notifier.add(url)
    body = single_line(summary_line(event), 1000)
    if not notifier.notify(title="newswatch", body=body, body_format=apprise.NotifyFormat.TEXT):
        raise DeliveryError(name, "apprise reported a failed notification")

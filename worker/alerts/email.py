"""Email alerts over SMTP: a plain-text and an HTML part, everything from articles escaped.

Subjects are built from single-line text: CR, LF and other control characters are removed
before the header is set (an encoded-word subject carrying a newline could otherwise
inject a header, CVE-2024-6923).
"""

from __future__ import annotations

import contextlib
import html
import re
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from worker.alerts.events import (
    AlertEvent,
    EntityEmerging,
    EntityFirstSeen,
    FeedHealth,
    FigureChanged,
    summary_line,
)
from worker.config import EmailChannel, SmtpSettings
from worker.errors import DeliveryError

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def single_line(text: str, limit: int = 150) -> str:
    flat = re.sub(r"\s+", " ", _CONTROL.sub(" ", text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _details(event: AlertEvent) -> list[tuple[str, str]]:
    """(label, text) pairs describing an event; texts are raw and escaped by the renderer."""
    rows = [("Event", event.type), ("Topic", str(event.topic)), ("Detected", event.detected_at)]
    if isinstance(event, FigureChanged):
        for name, side in (("Current", event.current), ("Previous", event.previous)):
            if side is None:
                continue
            document = side.document
            published = document.published or "unknown"
            if document.date_source == "fetched":
                published += " (fetch time; the article gives no date)"
            rows += [
                (f"{name} value", side.shown()),
                (f"{name} quote", side.quote),
                (f"{name} source", f"{document.source} — {document.title}"),
                (f"{name} published", published),
                (f"{name} link", document.url),
            ]
        rows.append(("Sources", f"{event.sources} confirm the current value"))
    elif isinstance(event, EntityFirstSeen | EntityEmerging):
        rows += [("Document", event.document.title), ("Link", event.document.url)]
        if isinstance(event, EntityFirstSeen) and event.quote:
            rows.append(("Quote", event.quote))
    elif isinstance(event, FeedHealth):
        rows += [("Feed", event.feed.url), ("Error", str(event.feed.error))]
    else:
        rows.append(("Message", event.message))
    return rows


def render(events: list[AlertEvent], sender: str, recipients: list[str]) -> EmailMessage:
    """One message for one event or a digest of several."""
    if len(events) == 1:
        subject = f"[newswatch] {summary_line(events[0])}"
    else:
        subject = f"[newswatch] {len(events)} alerts: {summary_line(events[0])} …"
    message = EmailMessage()
    message["Subject"] = single_line(subject, 200)
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="newswatch.local")
    text_parts, html_parts = [], []
    for event in events:
        rows = _details(event)
        text_parts.append(
            summary_line(event)
            + "\n"
            + "\n".join(f"{label}: {single_line(value, 2000)}" for label, value in rows)
        )
        html_parts.append(
            f"<h2>{html.escape(summary_line(event))}</h2><table>"
            + "".join(
                f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                for label, value in rows
            )
            + "</table>"
            f"<!-- event {html.escape(event.id)} -->"
        )
    message.set_content(
        "\n\n".join(text_parts)
        + "\n\n-- \nnewswatch\n"
        + "\n".join(f"event-id: {e.id}" for e in events)
        + "\n"
    )
    message.add_alternative("<html><body>" + "".join(html_parts) + "</body></html>", subtype="html")
    return message


def _tls_context(smtp: SmtpSettings) -> ssl.SSLContext:
    """Certificate and host name verified, against `ca_file` when one is configured."""
    return ssl.create_default_context(cafile=str(smtp.ca_file) if smtp.ca_file else None)


def send_email(
    name: str, channel: EmailChannel, smtp: SmtpSettings, events: list[AlertEvent]
) -> None:
    message = render(events, smtp.sender, channel.to)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(timeout=smtp.timeout, context=_tls_context(smtp))
    else:
        client = smtplib.SMTP(timeout=smtp.timeout)
    # Connected below, once the deadline runs; TLS checks the certificate against _host,
    # which only the constructor's own connect would have set.
    client._host = smtp.host  # type: ignore[attr-defined]  # set by smtplib, not in its stubs
    # smtplib's timeout counts each wait, so a server answering a byte at a time would hold
    # the delivery for ever; at the deadline the connection is cut from outside.
    # Set before the cut, so the error it causes is told as the deadline's: the timer's
    # thread may still be alive when that error arrives.
    timed_out = threading.Event()
    deadline = threading.Timer(smtp.timeout, _cut, (client, timed_out))
    deadline.start()
    try:
        with client:
            client.connect(smtp.host, smtp.port)
            if smtp.security == "starttls":
                client.starttls(context=_tls_context(smtp))
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        # A 4xx at RCPT TO is "try later" (greylisting, a full mailbox or queue): nothing
        # was delivered, so the whole message is retried. Only 5xx for all is final.
        codes = [code for code, _ in error.recipients.values()]
        raise DeliveryError(
            name,
            f"every recipient refused: {_refusals(error.recipients)}",
            retryable=any(400 <= code < 500 for code in codes),
        ) from error
    except smtplib.SMTPResponseException as error:
        permanent = 500 <= error.smtp_code < 600
        raise DeliveryError(
            name, f"SMTP {error.smtp_code}: {error.smtp_error!r}", retryable=not permanent
        ) from error
    except (OSError, smtplib.SMTPException) as error:
        reason = f"took longer than {smtp.timeout:g} s in all" if timed_out.is_set() else str(error)
        raise DeliveryError(name, f"SMTP {smtp.host}:{smtp.port}: {reason}") from error
    finally:
        deadline.cancel()
    if refused:
        # Retrying would send the message again to those who accepted it.
        raise DeliveryError(name, f"some recipients refused: {_refusals(refused)}", retryable=False)


def _cut(client: smtplib.SMTP, timed_out: threading.Event) -> None:
    timed_out.set()
    connection = getattr(client, "sock", None)
    if connection is not None:
        with contextlib.suppress(OSError):  # already closed
            connection.shutdown(socket.SHUT_RDWR)


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {message.decode('utf-8', 'replace')})"
        for address, (code, message) in sorted(refused.items())
    )

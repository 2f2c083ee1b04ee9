import time
from pathlib import Path

from tests.alerts.conftest import Mailbox, figure_event, make_runtime
from worker import pipeline
from worker.alerts.email import render, single_line
from worker.alerts.events import AlertEvent, payload
from worker.store.embedded import free_port

HOSTILE = "Troops <img src=x onerror=alert(1)>\r\nBcc: victim@example.org\n=0A"


def email_runtime(tmp_path: Path, redis_url: str, port: int, digest: str | None = None):
    channel = {"type": "email", "to": ["desk@example.org"]}
    if digest:
        channel["digest"] = digest
    return make_runtime(tmp_path, redis_url, {"mail": channel}, smtp_port=port)


def queue(rt: pipeline.Runtime, event: AlertEvent) -> AlertEvent:
    assert rt.store.save_event(event)
    assert pipeline.route_event(rt, event) == ["mail"]
    return event


def test_mail_has_escaped_html_and_plain_parts(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    rt = email_runtime(tmp_path, redis_url, port)
    event = queue(rt, figure_event(HOSTILE))
    assert pipeline.deliver(rt, event.id, "mail").state == "delivered"
    [message] = mailbox.messages
    assert mailbox.envelopes == [("newswatch@localhost", ["desk@example.org"])]
    assert message["Bcc"] is None and "\n" not in str(message["Subject"])
    assert message["Subject"].startswith("[newswatch] North Korean troops in Russia: 11,000")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "11,000" in text and event.id in text
    assert "Bcc: victim" not in text.split("\n")[0]


def test_a_title_with_crlf_cannot_add_a_header() -> None:
    event = figure_event(HOSTILE)
    event = event.model_copy(
        update={
            "figure": event.figure.model_copy(update={"label": "Troops\r\nBcc: victim@example.org"})
        }
    )
    message = render([event], "newswatch@localhost", ["desk@example.org"])
    headers = message.as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and message["Bcc"] is None
    assert single_line("a\r\nb\x00c\u2028d") == "a b c d"


def test_a_digest_gathers_events_into_one_message(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    rt = email_runtime(tmp_path, redis_url, port, digest="1h")
    for n in range(3):
        event = queue(rt, figure_event(f"Story {n}").model_copy(update={"id": f"evt_digest{n}"}))
        assert pipeline.deliver(rt, event.id, "mail").state == "digest"
        # a redelivered task adds nothing: the event joins the digest once
        assert pipeline.deliver(rt, event.id, "mail").state == "digest"
    assert rt.store.claim_due("deliveries", time.time() + 10**6, 60) == []
    assert pipeline.flush_digests(rt) == 0  # the window has not passed
    assert pipeline.flush_digests(rt, now=time.time() + 3601) == 1
    [message] = mailbox.messages
    assert message["Subject"].startswith("[newswatch] 3 alerts")
    text = message.get_body(("plain",)).get_content()
    assert all(text.count(f"Story {n}") == text.count("Story 0") for n in range(3))
    assert text.count("evt_digest0") == 1
    assert rt.store.delivery("evt_digest2", "mail").state == "delivered"


def test_smtp_down_is_retried(tmp_path: Path, redis_url: str) -> None:
    rt = email_runtime(tmp_path, redis_url, free_port())
    event = queue(rt, figure_event())
    outcome = pipeline.deliver(rt, event.id, "mail")
    assert outcome.state == "retrying" and "SMTP 127.0.0.1" in outcome.detail


def test_a_refused_recipient_fails_without_retry(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.refuse.add("desk@example.org")
    rt = email_runtime(tmp_path, redis_url, port)
    event = queue(rt, figure_event())
    outcome = pipeline.deliver(rt, event.id, "mail")
    assert outcome.state == "failed" and "refused" in outcome.detail
    assert mailbox.messages == []


def test_a_slow_smtp_server_times_out_and_is_retried(tmp_path: Path, redis_url: str) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    rt = email_runtime(tmp_path, redis_url, port)  # the server never greets
    event = queue(rt, figure_event())
    started = time.monotonic()
    outcome = pipeline.deliver(rt, event.id, "mail")
    assert outcome.state == "retrying" and time.monotonic() - started < 10
    for connection, _ in accepted:
        connection.close()
    listener.close()


def test_greylisting_is_retried_like_a_webhook_5xx(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.greylist["desk@example.org"] = 1
    rt = email_runtime(tmp_path, redis_url, port)
    event = queue(rt, figure_event())
    outcome = pipeline.deliver(rt, event.id, "mail")
    assert outcome.state == "retrying" and "451" in outcome.detail
    state = rt.store.delivery(event.id, "mail")
    assert state.state == "retrying" and "Greylisted" in (state.last_error or "")
    assert pipeline.deliver(rt, event.id, "mail").state == "delivered"
    assert len(mailbox.messages) == 1


def test_a_refused_digest_is_scheduled_with_backoff_and_its_error_recorded(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.greylist["desk@example.org"] = 2
    rt = email_runtime(tmp_path, redis_url, port, digest="15m")
    event = queue(rt, figure_event().model_copy(update={"id": "evt_greydigest"}))
    assert pipeline.deliver(rt, event.id, "mail").state == "digest"
    now = time.time() + 901
    assert pipeline.flush_digests(rt, now=now) == 0
    state = rt.store.delivery(event.id, "mail")
    assert state.state == "retrying" and state.attempts == 1
    assert "451" in (state.last_error or "")
    assert now + 4.5 <= (state.next_attempt or 0) <= now + 5.5  # 5 s, ±10 % jitter
    tries = mailbox.rcpt_attempts
    for tick in range(1, 5):  # the ticks before the retry is due do not try again
        assert pipeline.flush_digests(rt, now=now + tick) == 0
    assert mailbox.rcpt_attempts == tries
    assert pipeline.flush_digests(rt, now=now + 6) == 0  # second refusal: 5 min next
    state = rt.store.delivery(event.id, "mail")
    assert state.attempts == 2 and now + 276 <= (state.next_attempt or 0) <= now + 336
    assert pipeline.flush_digests(rt, now=now + 100) == 0 and mailbox.rcpt_attempts == tries + 1
    assert pipeline.flush_digests(rt, now=now + 337) == 1
    assert rt.store.delivery(event.id, "mail").state == "delivered"
    assert len(mailbox.messages) == 1


def test_a_digest_refused_for_good_is_recorded_failed_and_not_retried(
    tmp_path: Path, redis_url: str, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.refuse.add("desk@example.org")
    rt = email_runtime(tmp_path, redis_url, port, digest="15m")
    event = queue(rt, figure_event().model_copy(update={"id": "evt_deaddigest"}))
    pipeline.deliver(rt, event.id, "mail")
    now = time.time() + 901
    assert pipeline.flush_digests(rt, now=now) == 0
    state = rt.store.delivery(event.id, "mail")
    assert state.state == "failed" and "550" in (state.last_error or "")
    tries = mailbox.rcpt_attempts
    assert pipeline.flush_digests(rt, now=now + 10**6) == 0
    assert mailbox.rcpt_attempts == tries


def test_a_range_keeps_both_ends_and_the_mail_says_who_confirms_it() -> None:
    event = figure_event()
    current = event.current.model_copy(
        update={"value": 11000, "value_max": 12000, "qualifier": "about"}
    )
    event = event.model_copy(update={"current": current, "sources": 2})
    assert payload(event)["current"]["value_max"] == 12000
    message = render([event], "newswatch@localhost", ["desk@example.org"])
    text = message.get_body(("plain",)).get_content()
    assert "about 11,000–12,000 (was about 10,000)" in message["Subject"]
    assert "Current value: about 11,000–12,000" in text
    assert "Sources: 2 confirm the current value" in text
    assert "Current published: 2024-11-13T10:15:00+00:00" in text


def test_a_server_dripping_its_greeting_is_cut_at_the_timeout(
    tmp_path: Path, redis_url: str
) -> None:
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            for byte in b"220 " + b"x" * 400:  # a byte every 0.1 s: never idle for 3 s
                if stop.is_set():
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.1)

    threading.Thread(target=drip, daemon=True).start()
    rt = email_runtime(tmp_path, redis_url, listener.getsockname()[1])  # timeout: 3s
    event = queue(rt, figure_event())
    started = time.monotonic()
    outcome = pipeline.deliver(rt, event.id, "mail")
    elapsed = time.monotonic() - started
    stop.set()
    listener.close()
    assert outcome.state == "retrying" and "in all" in outcome.detail
    assert elapsed < 8

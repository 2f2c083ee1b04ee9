import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from tests.alerts.conftest import SECRET, figure_event, make_runtime
from worker import pipeline
from worker.alerts import RETRY_SCHEDULE, next_retry_delay
from worker.alerts.events import AlertEvent, payload
from worker.alerts.webhook import sign
from worker.demo.servers import LoopbackServer, WebhookReceiver


def runtime_for(
    tmp_path: Path, redis_url: str, url: str, secret: str = SECRET, private: bool = True
) -> pipeline.Runtime:
    channels = {"hook": {"type": "webhook", "url": url, "secret": secret, "timeout": "2s"}}
    rt = make_runtime(tmp_path, redis_url, channels)
    if not private:
        from dataclasses import replace

        rt.config = replace(
            rt.config,
            service=rt.config.service.model_copy(update={"allow_private_networks": False}),
        )
    return rt


def queue(rt: pipeline.Runtime, event: AlertEvent | None = None) -> AlertEvent:
    event = event or figure_event()
    assert rt.store.save_event(event)
    assert pipeline.route_event(rt, event) == ["hook"]
    return event


def test_a_signed_event_is_accepted_by_the_standard_webhooks_verifier(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    rt = runtime_for(tmp_path, redis_url, receiver.url)
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "delivered"
    assert receiver.events == [payload(event)] and receiver.rejected == []
    state = rt.store.delivery(event.id, "hook")
    assert state is not None and state.state == "delivered" and state.attempts == 1
    headers = receiver.requests[0][2]
    assert headers["webhook-id"] == event.id


def test_a_wrong_secret_is_rejected_by_the_receiver(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    rt = runtime_for(tmp_path, redis_url, receiver.url, secret="whsec_d3Jvbmcgc2VjcmV0")
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "failed" and "401" in outcome.detail
    assert receiver.events == []


def test_rotation_sends_one_signature_per_secret(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    rt = runtime_for(tmp_path, redis_url, receiver.url, secret=f"whsec_b2xkIHNlY3JldA== {SECRET}")
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "delivered"
    assert len(receiver.requests[0][2]["webhook-signature"].split()) == 2


def test_a_receiver_that_fails_then_recovers_gets_the_same_id(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    good = receiver.routes["/hook"]
    receiver.serve("/hook", b"down", status=503)
    rt = runtime_for(tmp_path, redis_url, receiver.url)
    event = queue(rt)
    first = pipeline.deliver(rt, event.id, "hook")
    assert first.state == "retrying" and first.retry_in is not None
    assert RETRY_SCHEDULE[0] * 0.9 <= first.retry_in <= RETRY_SCHEDULE[0] * 1.1
    due = rt.store.claim_due("deliveries", time.time() + 10, 60)
    assert due == [f"{event.id}|hook"]
    receiver.routes["/hook"] = good
    assert pipeline.deliver(rt, event.id, "hook").state == "delivered"
    ids = {r[2]["webhook-id"] for r in receiver.requests}
    assert ids == {event.id} and len(receiver.requests) == 2
    assert rt.store.delivery(event.id, "hook").attempts == 2


def test_429_honours_retry_after(tmp_path: Path, redis_url: str, site: LoopbackServer) -> None:
    site.serve("/hook", b"slow down", status=429, headers={"Retry-After": "3600"})
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "retrying" and outcome.retry_in is not None
    assert outcome.retry_in >= 3600


def test_410_disables_the_channel_and_says_so(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/hook", b"gone", status=410)
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "failed" and "disabled" in outcome.detail
    assert rt.store.channel_disabled("hook")
    other = queue(rt, figure_event().model_copy(update={"id": "evt_other"}))
    assert pipeline.deliver(rt, other.id, "hook").state == "failed"
    assert len(site.requests) == 1


def test_other_4xx_fail_without_retry(tmp_path: Path, redis_url: str, site: LoopbackServer) -> None:
    site.serve("/hook", b"bad", status=400)
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "failed"
    assert rt.store.claim_due("deliveries", time.time() + 10**6, 60) == []


def test_redirects_are_not_followed_and_retried(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/hook", b"", status=307, headers={"Location": "http://169.254.169.254/"})
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "retrying" and "307" in outcome.detail
    assert len(site.requests) == 1


def test_a_hang_past_the_timeout_is_retried(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    def hang(request: BaseHTTPRequestHandler):
        time.sleep(4)
        return 204, {}, b""

    site.routes["/hook"] = hang
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    started = time.monotonic()
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "retrying" and "timed out" in outcome.detail
    assert time.monotonic() - started < 3.5


def test_a_connection_reset_is_retried(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    def reset(request: BaseHTTPRequestHandler):
        request.connection.close()
        raise ConnectionResetError

    site.routes["/hook"] = reset
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "retrying"


def test_a_receiver_down_is_retried(tmp_path: Path, redis_url: str) -> None:
    with LoopbackServer() as gone:
        url = f"{gone.base}/hook"
    rt = runtime_for(tmp_path, redis_url, url)
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "retrying" and "ConnectError" in outcome.detail


def test_webhook_targets_pass_the_address_checks(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver
) -> None:
    rt = runtime_for(tmp_path, redis_url, receiver.url, private=False)
    event = queue(rt)
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "failed" and "non-public" in outcome.detail
    assert receiver.requests == []


def test_the_retry_schedule_lasts_past_a_day_then_gives_up() -> None:
    total = sum(RETRY_SCHEDULE)
    assert total >= 24 * 3600
    assert next_retry_delay(len(RETRY_SCHEDULE) + 1) is None


def test_signature_matches_the_specification_example() -> None:
    # Example from the Standard Webhooks specification's test vectors.
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_delivered(
    tmp_path: Path, redis_url: str, site: LoopbackServer, status: int
) -> None:
    site.serve("/hook", b"", status=status)
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "delivered"


def test_the_alert_log_shows_states_and_resends(
    tmp_path: Path, redis_url: str, receiver: WebhookReceiver, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from worker.cli import cli

    rt = runtime_for(tmp_path, redis_url, receiver.url)
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    event = queue(rt)
    assert pipeline.deliver(rt, event.id, "hook").state == "delivered"
    config = str(rt.config.directory)
    log = CliRunner().invoke(cli, ["alerts", "--config", config])
    assert log.exit_code == 0 and event.id in log.output
    assert "hook: delivered (attempts 1)" in log.output
    again = CliRunner().invoke(cli, ["alerts", "--resend", event.id, "--config", config])
    assert again.exit_code == 0 and "delivered" in again.output
    assert [r[2]["webhook-id"] for r in receiver.requests] == [event.id, event.id]
    missing = CliRunner().invoke(cli, ["alerts", "--resend", "evt_nope", "--config", config])
    assert missing.exit_code == 2 and "no event evt_nope" in missing.output


def test_a_receiver_dripping_its_headers_is_cut_at_the_timeout(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    def drip(request: BaseHTTPRequestHandler):
        request.rfile.read(int(request.headers["Content-Length"]))
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(300):  # a header line every 0.1 s: never idle long enough to time out
            request.wfile.write(f"X-Drip-{i}: x\r\n".encode())
            request.wfile.flush()
            time.sleep(0.1)
        raise ConnectionError("stop")

    site.routes["/hook"] = drip
    rt = runtime_for(tmp_path, redis_url, f"{site.base}/hook")  # timeout: 2s
    event = queue(rt)
    started = time.monotonic()
    outcome = pipeline.deliver(rt, event.id, "hook")
    assert outcome.state == "retrying" and "timed out after 2 s" in outcome.detail
    assert time.monotonic() - started < 6


def test_a_reply_body_is_never_read(tmp_path: Path, redis_url: str, site: LoopbackServer) -> None:
    """A receiver answering with a huge or dripping body: the status is all that counts."""
    sent = [0]

    def flood(request: BaseHTTPRequestHandler):
        request.rfile.read(int(request.headers["Content-Length"]))
        request.send_response(200)
        request.send_header("Content-Length", str(2 * 1024**3))
        request.end_headers()
        chunk = b"\0" * 1024 * 1024
        while sent[0] < 512 * 1024**2:  # bounded, so the test stops even if it is read
            request.wfile.write(chunk)
            sent[0] += len(chunk)
        raise ConnectionError("stop")

    def drip(request: BaseHTTPRequestHandler):
        request.rfile.read(int(request.headers["Content-Length"]))
        request.send_response(200)
        request.send_header("Content-Length", "1000")
        request.end_headers()
        for _ in range(1000):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.05)
        raise ConnectionError("stop")

    for path, route in (("/flood", flood), ("/drip", drip)):
        site.routes[path] = route
        rt = runtime_for(tmp_path, redis_url, f"{site.base}{path}")
        event = queue(rt, figure_event().model_copy(update={"id": f"evt_reply_{path[1:]}"}))
        started = time.monotonic()
        assert pipeline.deliver(rt, event.id, "hook").state == "delivered"
        assert time.monotonic() - started < 20  # the drip lasts 50 s when the reply is read
    assert sent[0] < 64 * 1024**2  # the socket buffers' worth, not 2 GB


def test_an_attempt_while_another_is_sending_sends_nothing(tmp_path: Path, redis_url: str) -> None:
    """The tick hands a delivery out again while its first attempt is still sending (its
    lease ran out while the poller was away): both found it pending and both sent it. The
    second attempt now leaves it to the first, and the receiver has the event once."""
    verifier = Webhook(SECRET)
    second_done = threading.Event()

    def hold_the_first(_: dict) -> None:
        if len(receiver.events) == 1:
            second_done.wait(30)

    with (
        WebhookReceiver(
            lambda body, h: verifier.verify(body, h), on_event=hold_the_first
        ) as receiver,
        ThreadPoolExecutor(1) as attempts,
    ):
        rt = runtime_for(tmp_path, redis_url, receiver.url)
        event = queue(rt)
        first = attempts.submit(pipeline.deliver, rt, event.id, "hook")
        deadline = time.monotonic() + 30
        while not receiver.events and time.monotonic() < deadline:
            time.sleep(0.05)
        second = pipeline.deliver(rt, event.id, "hook")
        second_done.set()
        assert first.result(timeout=30).state == "delivered"
    assert second.state == "skipped"
    assert [e["id"] for e in receiver.events] == [event.id]
    # The claim is let go with the outcome recorded: a later attempt finds it delivered.
    assert pipeline.deliver(rt, event.id, "hook").detail == "already delivered"

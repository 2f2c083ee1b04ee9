"""Email over STARTTLS and implicit TLS to a real aiosmtpd server whose certificate a test
CA signs, with credentials from the environment; and the Apprise channel to a loopback
JSON endpoint."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.alerts.conftest import Mailbox, figure_event, make_runtime
from tests.support import write_config
from worker import pipeline
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.store.embedded import free_port


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == b"desk" and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def starttls_server(ca: trustme.CA) -> Iterator[tuple[Mailbox, int]]:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context(ca),
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    yield mailbox, port
    controller.stop()


def runtime(
    folder: Path,
    redis_url: str,
    port: int,
    security: str,
    ca_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> pipeline.Runtime:
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    config = write_config(
        folder,
        channels={"mail": {"type": "email", "to": ["desk@example.org"]}},
        service={
            "smtp": {
                "host": "127.0.0.1",
                "port": port,
                "security": security,
                "timeout": "5s",
                "username": "desk",
                "password": "${SMTP_PASSWORD}",
                "ca_file": str(ca_file),
            }
        },
    )
    return pipeline.Runtime(load_config(config), redis_url)


def deliver(rt: pipeline.Runtime) -> pipeline.DeliveryOutcome:
    event = figure_event()
    rt.store.save_event(event)
    pipeline.route_event(rt, event)
    return pipeline.deliver(rt, event.id, "mail")


def test_starttls_with_login_from_the_environment(
    tmp_path: Path, redis_url: str, ca, starttls_server, monkeypatch
) -> None:
    mailbox, port = starttls_server
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    rt = runtime(tmp_path, redis_url, port, "starttls", ca_file, monkeypatch)
    assert deliver(rt).state == "delivered"
    assert len(mailbox.messages) == 1


def test_an_untrusted_certificate_is_refused(
    tmp_path: Path, redis_url: str, starttls_server, monkeypatch
) -> None:
    mailbox, port = starttls_server
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    rt = runtime(tmp_path, redis_url, port, "starttls", other, monkeypatch)
    outcome = deliver(rt)
    assert outcome.state == "retrying" and "CERTIFICATE_VERIFY_FAILED" in outcome.detail
    assert mailbox.messages == []


def test_implicit_tls(tmp_path: Path, redis_url: str, ca, monkeypatch) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        ssl_context=server_context(ca),
        authenticator=authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        rt = runtime(tmp_path, redis_url, port, "tls", ca_file, monkeypatch)
        assert deliver(rt).state == "delivered"
    finally:
        controller.stop()
    assert len(mailbox.messages) == 1


def test_apprise_channel_posts_to_a_json_endpoint(tmp_path: Path, redis_url: str) -> None:
    received: list[bytes] = []

    def hook(request):
        received.append(request.rfile.read(int(request.headers["content-length"])))
        return 200, {}, b"{}"

    with LoopbackServer() as site:
        site.routes["/notify"] = hook
        url = site.base.replace("http://", "json://") + "/notify"
        rt = make_runtime(tmp_path, redis_url, {"mail": {"type": "apprise", "urls": [url]}})
        outcome = deliver(rt)
    assert outcome.state == "delivered", outcome
    assert b"North Korean troops in Russia: 11,000" in received[0]

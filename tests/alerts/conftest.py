"""Real receivers on loopback: a Standard Webhooks verifier and an aiosmtpd server."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from tests.support import write_config
from worker import pipeline
from worker.alerts.events import FigureChanged, from_payload
from worker.config import load_config
from worker.demo.servers import WebhookReceiver
from worker.store.embedded import free_port

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    verifier = Webhook(SECRET)
    with WebhookReceiver(lambda body, headers: verifier.verify(body, headers)) as server:
        yield server


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.greylist: dict[str, int] = {}  # address → how many more times to answer 451
        self.rcpt_attempts = 0

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.rcpt_attempts += 1
        if address in self.refuse:
            return "550 5.1.1 no such user"
        if self.greylist.get(address, 0) > 0:
            self.greylist[address] -= 1
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def make_runtime(
    folder: Path, redis_url: str, channels: dict, smtp_port: int = 25
) -> pipeline.Runtime:
    config = write_config(
        folder,
        channels=channels,
        service={
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "plain", "timeout": "3s"}
        },
    )
    return pipeline.Runtime(load_config(config), redis_url)


def figure_event(title: str = "Ukraine says 11,000 troops") -> FigureChanged:
    document = {
        "id": "0123456789abcdef",
        "file": "001_0123456789abcdef.txt",
        "url": "https://wire.example/w2",
        "title": title,
        "source": "wire",
        "published": "2024-11-13T10:15:00+00:00",
        "language": "en",
    }
    return from_payload(
        {
            "id": "evt_test0000000000000001",
            "type": "figure.changed",
            "topic": "nk-troops-russia",
            "detected_at": "2024-11-13T10:20:00Z",
            "figure": {"id": "nk_troops_in_russia", "label": "North Korean troops in Russia"},
            "previous": {
                "value": 10000,
                "qualifier": "about",
                "quote": "sekitar 10.000 tentara",
                "document": {**document, "id": "f15ba8ca4d9a1e51", "title": "seed"},
            },
            "current": {"value": 11000, "qualifier": "exact", "quote": title, "document": document},
            "sources": 1,
        }
    )

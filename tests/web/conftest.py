"""A web view serving real state: documents run through the pipeline into a real Redis and
corpus folder, deliveries attempted against a closed port, and uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.support import write_config
from worker import pipeline
from worker.articles import Document
from worker.articles.corpus import document_id
from worker.config import load_config
from worker.store.embedded import free_port
from worker.web import Credentials, create_app, make_desk
from worker.web.desk import Desk

TOPIC = "nk-troops-russia"
FIGURE = "nk_troops_in_russia"
CREDENTIALS = ("desk", "a s3cret: with colon")
FEED = {"url": "https://feeds.example/world.xml", "topics": [TOPIC], "name": "World"}
# A word no other document holds, planted to be searched for.
PLANTED_WORD = "Tumangang"

# Our own sentences, with the figures of the story (troops sent, in publication order).
REPORTS = [
    (
        "2024-11-13",
        "https://wire.example/a",
        "Kyiv's figure",
        "Ukraine's intelligence says 11,000 North Korean troops are now in Russia.\n"
        "Officials said most of the soldiers were moving toward Kursk.",
    ),
    (
        "2024-12-10",
        "https://wire.example/b",
        "Seoul's update",
        "North Korea has sent about 12,000 troops to Russia, Seoul's spy agency told lawmakers.\n"
        f"Most crossed the border by rail through {PLANTED_WORD}, officials said.",
    ),
    (
        "2025-01-20",
        "https://wire.example/c",
        "After the winter",
        "About 14,000 North Korean troops are now in Russia, a NATO official said.\n"
        "The official did not say how many had been wounded.",
    ),
    # A range: the chart shows it as a band from one end to the other.
    (
        "2025-02-10",
        "https://wire.example/r",
        "A range",
        "Between 14,500 and 15,000 North Korean troops are now in Russia, analysts estimate.\n"
        "The estimate rests on satellite images of the camps.",
    ),
    # Far past the confirmed value, from one source: held unconfirmed, never a step.
    (
        "2025-03-01",
        "https://blog.example/u",
        "A claim",
        "A blogger claims 60,000 North Korean troops are now in Russia.\n"
        "No other outlet has reported the number.",
    ),
]


def refused_url() -> str:
    """A loopback URL nothing listens on: every delivery to it fails and is retried."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def ingest(rt: pipeline.Runtime, published: str, url: str, title: str, text: str) -> None:
    document = Document(
        id=document_id(url),
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        published=datetime.fromisoformat(published).replace(tzinfo=UTC),
        language="en",
        source=url.split("/")[2],
        date_source="feed",
    )
    result = pipeline.process_document(rt, document, [TOPIC], None)
    for event in result.events:
        pipeline.deliver_now(rt, event)


@dataclass
class Site:
    base: str
    desk: Desk
    rt: pipeline.Runtime
    auth: tuple[str, str] = CREDENTIALS

    def get(self, path: str, **options: object) -> httpx.Response:
        return httpx.get(self.base + path, auth=self.auth, timeout=30, **options)  # type: ignore[arg-type]


@contextmanager
def serving(desk: Desk) -> Iterator[str]:
    """The web view of `desk` on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(desk, Credentials(*CREDENTIALS)),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web view did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture
def web_view(tmp_path: Path, redis_url: str) -> Iterator[Site]:
    # The story is from 2024: a max_age that covers it, so its readings still alert.
    config = load_config(
        write_config(
            tmp_path,
            feeds=[FEED],
            topic_overrides={"max_age": "3650d"},
            channels={
                "desk-webhook": {
                    "type": "webhook",
                    "url": refused_url(),
                    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                }
            },
        )
    )
    rt = pipeline.Runtime(config, redis_url)
    for report in REPORTS:
        ingest(rt, *report)
    desk = make_desk(config, redis_url)
    with serving(desk) as base:
        yield Site(base, desk, rt)

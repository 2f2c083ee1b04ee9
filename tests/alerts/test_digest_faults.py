"""Email digests through faults, to a real aiosmtpd server: Redis gone as a digest is
accepted, two ticks sending at once, an event joining while its digest goes out, Redis
left half-way through an event joining a digest. Each digest is sent once and no event
is left behind."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.alerts.conftest import Mailbox, figure_event
from tests.support import write_config
from worker import pipeline
from worker.alerts.events import AlertEvent
from worker.config import load_config
from worker.store import STORE_ERRORS
from worker.store import keys as keyspace
from worker.store.embedded import free_port, start_redis

WINDOW = 3600  # the channel's digest window: "1h"


class HookedMailbox(Mailbox):
    """A mailbox that calls `on_message` (in the server's thread) as it accepts a message,
    and waits, the server still serving others, until `hold` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.on_message: Callable[[int], None] = lambda _: None
        self.hold = threading.Event()
        self.hold.set()

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        self.on_message(len(self.messages))
        while not self.hold.is_set():
            await asyncio.sleep(0.05)
        return reply


@pytest.fixture
def mailbox() -> Iterator[tuple[HookedMailbox, int]]:
    box = HookedMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    box.hold.set()
    controller.stop()


def digest_runtime(folder: Path, redis_url: str, smtp_port: int) -> pipeline.Runtime:
    channel = {"type": "email", "to": ["desk@example.org"], "digest": "1h"}
    config = write_config(
        folder,
        channels={"mail": channel},
        # A deadline no held-back reply or Redis stopping in the server's thread reaches.
        service={
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "plain", "timeout": "2m"}
        },
    )
    return pipeline.Runtime(load_config(config), redis_url)


def join(rt: pipeline.Runtime, n: int) -> AlertEvent:
    event = figure_event(f"Story {n}").model_copy(update={"id": f"evt_digest{n}"})
    assert rt.store.save_event(event)
    assert pipeline.route_event(rt, event) == ["mail"]
    assert pipeline.deliver(rt, event.id, "mail").state == "digest"
    return event


def event_ids(box: Mailbox) -> list[list[str]]:
    """The events each message carries, in the order the server accepted them."""
    return [
        [
            line.removeprefix("event-id: ")
            for line in m.get_body(("plain",)).get_content().splitlines()
            if line.startswith("event-id: ")
        ]
        for m in box.messages
    ]


def test_redis_gone_as_a_digest_is_accepted_sends_it_once(
    tmp_path: Path, mailbox: tuple[HookedMailbox, int]
) -> None:
    """Redis goes away as the server accepts the digest and comes back seconds later: the
    tick sending it records it once Redis answers, so the next tick finds nothing due
    (it sent the digest a second time when the record was given up on)."""
    box, smtp_port = mailbox
    port = free_port()
    redis_dir = tmp_path / "redis"
    servers = [start_redis(redis_dir, port=port, append_only=True)]
    gone = threading.Event()

    def redis_goes_away(_: int) -> None:
        if not gone.is_set():
            servers[-1].stop()
            gone.set()

    rt = digest_runtime(tmp_path, servers[0].url, smtp_port)
    try:
        events = [join(rt, n) for n in range(2)]
        box.on_message = redis_goes_away
        due = time.time() + WINDOW + 1
        with ThreadPoolExecutor(1) as ticks:
            first = ticks.submit(pipeline.flush_digests, rt, due)
            assert gone.wait(60), "the digest reached the server"
            time.sleep(5)
            # Started from this thread: Redis ends with the thread that started it.
            servers.append(start_redis(redis_dir, port=port, append_only=True))
            with contextlib.suppress(*STORE_ERRORS):  # the tick would fail
                first.result(timeout=120)
        # The next ticks, an hour on and more: nothing is left to send.
        assert pipeline.flush_digests(rt, due + 1) == 0
        assert pipeline.flush_digests(rt, due + 2 * WINDOW) == 0
        pending = rt.store.digest_pending("mail")
        deliveries = [rt.store.delivery(e.id, "mail") for e in events]
    finally:
        servers[-1].stop()
    assert event_ids(box) == [[e.id for e in events]]
    assert pending == []
    assert [d.state if d else None for d in deliveries] == ["delivered", "delivered"]


def test_a_tick_beside_one_sending_the_digest_sends_nothing(
    tmp_path: Path, redis_url: str, mailbox: tuple[HookedMailbox, int]
) -> None:
    """Two ticks at once (a slow server, a short tick interval): the second finds the
    digest being sent and leaves it (both sent it)."""
    box, smtp_port = mailbox
    rt = digest_runtime(tmp_path, redis_url, smtp_port)
    events = [join(rt, n) for n in range(2)]
    accepted = threading.Event()
    box.hold.clear()  # the first message is accepted, its reply held back
    box.on_message = lambda count: accepted.set() if count == 1 else box.hold.set()
    due = time.time() + WINDOW + 1
    with ThreadPoolExecutor(1) as ticks:
        first = ticks.submit(pipeline.flush_digests, rt, due)
        assert accepted.wait(60), "the digest reached the server"
        beside = pipeline.flush_digests(pipeline.Runtime(rt.config, redis_url), due)
        box.hold.set()
        assert first.result(timeout=120) == 1
    assert beside == 0
    assert event_ids(box) == [[e.id for e in events]]


def test_an_event_joining_while_its_digest_goes_out_is_sent_with_the_next(
    tmp_path: Path, redis_url: str, mailbox: tuple[HookedMailbox, int]
) -> None:
    """An event joins the digest as the server accepts it: it is not in that message, and
    is due with the next window (it was never due again: the sent digest's start time
    went, and only a later event would have set one)."""
    box, smtp_port = mailbox
    rt = digest_runtime(tmp_path, redis_url, smtp_port)
    first = join(rt, 0)
    beside = pipeline.Runtime(rt.config, redis_url)
    late: list[AlertEvent] = []
    box.on_message = lambda count: late.append(join(beside, 1)) if count == 1 else None
    due = time.time() + WINDOW + 1
    assert pipeline.flush_digests(rt, due) == 1
    assert pipeline.flush_digests(rt, due + WINDOW + 1) == 1
    assert event_ids(box) == [[first.id], [late[0].id]]
    assert rt.store.digest_pending("mail") == []


def test_an_event_left_in_the_digest_by_redis_going_away_joins_it_once(
    tmp_path: Path, redis_url: str, mailbox: tuple[HookedMailbox, int]
) -> None:
    """Redis gone just after the event joined the digest, before its delivery said so:
    the attempt made again finds it there and the digest carries it once (twice before)."""
    box, smtp_port = mailbox
    rt = digest_runtime(tmp_path, redis_url, smtp_port)
    event = figure_event().model_copy(update={"id": "evt_halfjoined"})
    assert rt.store.save_event(event)
    assert pipeline.route_event(rt, event) == ["mail"]
    # What the first attempt left: the event in the digest, its delivery still pending.
    rt.store.r.rpush(keyspace.digest("mail"), event.id)
    rt.store.r.set(keyspace.digest("mail", "since"), time.time())
    assert pipeline.deliver(rt, event.id, "mail").state == "digest"
    assert pipeline.flush_digests(rt, time.time() + WINDOW + 1) == 1
    assert event_ids(box) == [[event.id]]

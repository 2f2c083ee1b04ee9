"""The one-thread client (a prefork child's): one connection kept for every command,
and never a reply taken for the wrong command."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from worker.store import connect


class Interrupted(Exception):
    """As a soft time limit's exception, raised wherever the task happens to be."""


def test_commands_share_one_connection(redis_url: str) -> None:
    client = connect(redis_url, one_thread=True)
    client.set("a", "1")
    before = client.connection
    assert client.get("a") == "1"
    assert client.connection is before
    assert client.connection_pool._created_connections == 1  # type: ignore[attr-defined]


def test_a_command_interrupted_before_its_reply_does_not_hand_it_to_the_next(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = connect(redis_url, one_thread=True)
    client.set("a", "first")
    client.set("b", "second")
    parse = redis.Redis.parse_response
    interrupted = []

    def interrupt_once(self: redis.Redis, connection: Any, command: str, **options: Any) -> Any:
        if not interrupted:
            interrupted.append(command)
            raise Interrupted  # the GET was sent, its reply not yet read
        return parse(self, connection, command, **options)

    monkeypatch.setattr(redis.Redis, "parse_response", interrupt_once)
    with pytest.raises(Interrupted):
        client.get("a")
    assert interrupted == ["GET"]
    # Its reply ("first") went with the dropped connection; the next GET gets its own.
    assert client.get("b") == "second"
    assert client.get("a") == "first"


def test_a_refused_command_keeps_the_connection(redis_url: str) -> None:
    client = connect(redis_url, one_thread=True)
    client.set("s", "text")
    kept = client.connection
    assert kept is not None
    socket = kept._sock  # type: ignore[attr-defined]
    with pytest.raises(redis.ResponseError):
        client.incr("s")
    assert client.get("s") == "text"
    assert kept._sock is socket  # type: ignore[attr-defined]

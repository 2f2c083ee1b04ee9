"""A topic's lock: one holder at a time, waiters woken by its release, none held for ever."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

import numpy as np
import pytest
import redis

from worker.articles.corpus import HeldDocument
from worker.store import Store, TopicView
from worker.store import keys as keyspace
from worker.store.embedded import free_port, start_redis

store_module = importlib.import_module("worker.store")


def store(url: str) -> Store:
    return Store(redis.Redis.from_url(url, decode_responses=True))


def test_a_waiter_is_woken_by_the_release(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never asked again on its own: only the holder's release can let the waiter in.
    monkeypatch.setattr(store_module, "LOCK_RECHECK", 3600.0)
    holder, waiter = store(redis_url), store(redis_url)
    order: list[str] = []
    holding, waiting = threading.Event(), threading.Event()

    def wait() -> None:
        holding.wait(60)
        waiting.set()
        with waiter.topic_lock("t", timeout=600):
            order.append("waiter in")

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    with holder.topic_lock("t", timeout=600):
        holding.set()
        waiting.wait(60)
        # Released only once the waiter blocks on its wake-up (BLPOP), with nothing yet.
        blocked = threading.Event()
        while not any(c.get("cmd") == "blpop" for c in holder.r.client_list()):
            blocked.wait(0.02)
        assert not order
        order.append("holder out")
    thread.join(120)
    assert not thread.is_alive()
    assert order == ["holder out", "waiter in"]
    assert not holder.r.exists(keyspace.topic_lock("t"))


def test_a_lock_whose_holder_died_is_had_once_it_runs_out(redis_url: str) -> None:
    s = store(redis_url)
    s.r.set(keyspace.topic_lock("t"), "a task killed under it", px=300)
    with s.topic_lock("t", timeout=60):
        assert s.r.get(keyspace.topic_lock("t")) != "a task killed under it"


def test_a_lock_not_had_in_time_raises(redis_url: str) -> None:
    s = store(redis_url)
    s.r.set(keyspace.topic_lock("t"), "another task", px=600_000)
    with pytest.raises(redis.exceptions.LockError), s.topic_lock("t", timeout=0.3):
        pass


def test_a_lock_that_ran_out_under_its_holder_says_so(redis_url: str) -> None:
    s = store(redis_url)
    with pytest.raises(redis.exceptions.LockNotOwnedError), s.topic_lock("t", timeout=0.2):
        gone = threading.Event()
        while s.r.exists(keyspace.topic_lock("t")):
            gone.wait(0.05)
        s.r.set(keyspace.topic_lock("t"), "the next holder")
    assert s.r.get(keyspace.topic_lock("t")) == "the next holder"  # not released by mistake


def test_a_lock_held_while_redis_restarts_is_released_once_it_is_back(tmp_path: Path) -> None:
    """Redis stopped under a holder and started again with its append-only file (which
    keeps the lock): the holder's release, asked again until Redis answers, lets the
    topic's next task in instead of leaving it the whole lease (it was left so)."""
    port = free_port()
    server = start_redis(tmp_path, port=port, append_only=True)
    holder = store(server.url)
    holding, stopped = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with holder.topic_lock("t", timeout=600):
                holding.set()
                stopped.wait(60)
        except BaseException as error:  # seen by the test below
            errors.append(error)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert holding.wait(60)
        server.stop()
        stopped.set()
        thread.join(2)  # gone a moment: the release meets no Redis
        # Started from this thread: Redis ends with the thread that started it.
        server = start_redis(tmp_path, port=port, append_only=True)
        thread.join(120)
        assert not thread.is_alive()
        assert not store(server.url).r.exists(keyspace.topic_lock("t"))
        assert errors == []
    finally:
        server.stop()


def test_the_view_taken_with_the_lock_sees_what_the_last_holder_wrote(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read in the call that takes the lock, after the holder's release: never before it.
    monkeypatch.setattr(store_module, "LOCK_RECHECK", 3600.0)
    holder, waiter = store(redis_url), store(redis_url)
    holder.mark_bootstrapped("t")
    views: list[TopicView] = []
    holding = threading.Event()

    def wait() -> None:
        holding.wait(60)
        with waiter.locked_view("t", "a", "sha-a", ["0:abc123"], timeout=600) as view:
            views.append(view)
            assert waiter.r.get(keyspace.topic_lock("t")) is not None

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    with holder.topic_lock("t", timeout=600):
        holding.set()
        blocked = threading.Event()
        while not any(c.get("cmd") == "blpop" for c in holder.r.client_list()):
            blocked.wait(0.02)
        held = HeldDocument(file="001-a.txt", sha256="sha-a", url="", title="A", source="x")
        holder.hold_document("t", "a", held, np.zeros(4, dtype=np.uint32), ["0:abc123"])
    thread.join(120)
    assert not thread.is_alive()
    [view] = views
    assert view.ready and view.held == held and view.same_text == "a"
    assert view.candidates == {"a"}
    assert not holder.r.exists(keyspace.topic_lock("t"))

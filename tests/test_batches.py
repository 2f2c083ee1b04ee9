"""Entries are handed out in batches: a batch's pages are fetched ahead, as many at a time
as a host may serve, and the tick hands out every due feed, however many."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support import distinct_page, write_config
from worker import pipeline, tasks
from worker.celery_app import IO_QUEUE, QUEUE
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.feeds import Entry


class Crowd:
    """Answers a page only once `expected` requests are in flight at once (or after a
    generous deadline), and records the most it ever saw."""

    def __init__(self, expected: int) -> None:
        self.expected, self.in_flight, self.most = expected, 0, 0
        self.changed = threading.Condition()

    def __call__(self, n: int):  # type: ignore[no-untyped-def]
        def answer(_request):  # type: ignore[no-untyped-def]
            with self.changed:
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
                self.changed.notify_all()
                self.changed.wait_for(lambda: self.most >= self.expected, timeout=30)
                self.in_flight -= 1
            return 200, {"content-type": "text/html; charset=utf-8"}, distinct_page(n).encode()

        return answer


def test_a_batch_fetches_its_pages_ahead_as_many_at_a_time_as_a_host_allows(
    tmp_path: Path, redis_url: str
) -> None:
    crowd = Crowd(expected=2)
    with LoopbackServer() as site:
        for n in range(6):
            site.routes[f"/page/{n}"] = crowd(n)
        config = load_config(write_config(tmp_path, service={"per_host_concurrency": 2}))
        rt = pipeline.Runtime(config, redis_url)
        links = [f"{site.base}/page/{n}" for n in range(6)]
        with pipeline.PagePrefetch(rt, links) as pages:
            fetched = [pages.page(link) for link in links]
    assert [f"Report {n}" in html for n, (html, _) in enumerate(fetched)] == [True] * 6
    assert [url for _, url in fetched] == links
    # Two at a time: ahead of the entry being processed, never more than the host's slots.
    assert crowd.most == 2


def test_a_page_not_fetched_ahead_is_fetched_when_asked_for(tmp_path: Path, redis_url: str) -> None:
    with LoopbackServer() as site:
        site.serve("/late", distinct_page(7), "text/html")
        rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
        with pipeline.PagePrefetch(rt, []) as pages:
            html, url = pages.page(f"{site.base}/late")
    assert "Report 7" in html and url == f"{site.base}/late"


def test_a_feed_s_new_entries_go_out_entry_batch_at_a_time_in_order(
    tmp_path: Path, redis_url: str
) -> None:
    config = load_config(write_config(tmp_path, service={"entry_batch": 8}))
    rt = pipeline.Runtime(config, redis_url)
    tasks.use(rt)
    entries = [
        (
            Entry(
                id=f"e{n}",
                link=f"http://127.0.0.1:9/{n}",
                title="",
                summary="",
                content="",
                published=None,
            ),
            n < 3,
        )
        for n in range(20)
    ]
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE)
    tasks.send_entries(rt, "feed", entries, None)
    # The queue as the broker holds it (LPUSH: the newest first), each message's arguments.
    sent = [_arguments(message) for message in reversed(client.lrange(QUEUE, 0, -1))]
    assert [len(batch) for _, batch, _ in sent] == [8, 8, 4]
    assert [e["id"] for _, batch, _ in sent for e in batch] == [f"e{n}" for n in range(20)]
    assert [flag for _, _, flags in sent for flag in flags] == [n < 3 for n in range(20)]


def test_a_batch_s_message_shows_its_feed_and_how_many_entries(
    tmp_path: Path, redis_url: str
) -> None:
    """What Flower and `celery inspect` show of a batch's arguments (the message's argsrepr):
    the feed and the number of entries, not the entries written out."""
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    tasks.use(rt)
    entries = [
        (Entry(id=f"e{n}", link=f"http://127.0.0.1:9/{n}", title="", summary="", content="",
               published=None), False)
        for n in range(3)
    ]  # fmt: skip
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE)
    tasks.send_entries(rt, "feed-1", entries, None)
    tasks.send_entries(rt, "feed-2", entries, "run-1")
    headers = [json.loads(m)["headers"] for m in reversed(client.lrange(QUEUE, 0, -1))]
    assert [(h["argsrepr"], h["kwargsrepr"]) for h in headers] == [
        ("('feed-1', <3 items>, <3 items>)", "{}"),
        ("('feed-2', <3 items>, <3 items>)", "{'run': 'run-1'}"),
    ]


def _arguments(message: bytes) -> list[Any]:
    """A queued task's positional arguments (kombu's envelope: a base64 JSON body)."""
    args, _kwargs, _embed = json.loads(base64.b64decode(json.loads(message)["body"]))
    return list(args)


def test_one_tick_hands_out_every_due_feed_beyond_one_claim(tmp_path: Path, redis_url: str) -> None:
    """2,500 feeds due at once (a backlog after an outage, or a large OPML import): one
    tick sends a poll for each, not the first thousand (in the half tick it may take)."""
    config = load_config(write_config(tmp_path, service={"tick_interval": "2m"}))
    rt = pipeline.Runtime(config, redis_url)
    tasks.use(rt)
    client = redis.Redis.from_url(redis_url)
    client.delete(IO_QUEUE)
    for n in range(2500):
        rt.store.schedule("feeds", f"feed-{n}", 0)
    result = tasks.tick.run()
    assert result["feeds"] == 2500
    assert client.llen(IO_QUEUE) == 2500


def test_a_batch_past_half_its_soft_limit_hands_the_rest_on(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine so busy that an entry takes half the limit, a batch processes what it
    can in time and sends the rest, in order, as a new task; finished entries are skipped."""
    config = load_config(write_config(tmp_path, service={"task_time_limit": "1s"}))
    rt = pipeline.Runtime(config, redis_url)
    tasks.use(rt)
    client = redis.Redis.from_url(redis_url)
    client.delete(QUEUE)
    processed: list[str] = []

    def slow(_rt: object, _feed: object, entry: Entry, *_: object, **__: object):  # type: ignore[no-untyped-def]
        processed.append(entry.id)
        time.sleep(0.5)  # past the budget (half of the 0.8 s soft limit) after one entry
        return pipeline.EntryResult("empty")

    monkeypatch.setattr(pipeline, "process_entry", slow)
    monkeypatch.setattr(pipeline, "PagePrefetch", NoPrefetch)
    entries = [
        Entry(id=f"e{n}", link="", title="", summary="", content="", published=None)
        for n in range(5)
    ]
    rt.store.finish_entry("feed", "e0")  # finished by an earlier hand-off
    results = tasks.process_entries.run(
        "feed", [e.to_json() for e in entries], [False, False, True, False, False]
    )
    assert processed == ["e1"] and [r["status"] for r in results] == ["empty"]
    (handed_on,) = [_arguments(m) for m in client.lrange(QUEUE, 0, -1)]
    _feed, batch, flags = handed_on
    assert [e["id"] for e in batch] == ["e2", "e3", "e4"] and flags == [True, False, False]


class NoPrefetch:
    def __init__(self, *_: object) -> None:
        pass

    def __enter__(self) -> NoPrefetch:
        return self

    def __exit__(self, *_: object) -> None:
        pass

"""The feeds stage with its state in a real Redis: hand-off exactly once, per-host limits,
failing and recovered feeds, the due schedule, and the feed commands."""

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import DATA, write_config
from worker import pipeline
from worker.cli import cli
from worker.config import load_config
from worker.demo.servers import LoopbackServer

RSS = (DATA / "feeds" / "rss2.xml").read_bytes()


def runtime(folder: Path, redis_url: str, urls: list[str], **service: object) -> pipeline.Runtime:
    feeds = [{"url": url, "topics": ["nk-troops-russia"]} for url in urls]
    config = load_config(write_config(folder, feeds=feeds, service=service))
    rt = pipeline.Runtime(config, redis_url)
    pipeline.sync_feeds(rt)
    return rt


def test_overlapping_polls_hand_each_entry_off_once(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/feed", RSS, "application/rss+xml")
    rt = runtime(tmp_path, redis_url, [f"{site.base}/feed"], per_host_concurrency=8)
    key = pipeline.feed_id(f"{site.base}/feed")
    handed: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def poll() -> None:
        barrier.wait()
        result = pipeline.poll_feed(rt, key)
        for entry in result.new_entries:
            with lock:
                # as the task does: process, then record it (it leaves the outbox)
                if rt.store.outbox(key).get(entry.id):
                    handed.append(entry.id)
                rt.store.finish_entry(key, entry.id)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(handed) == sorted({e for e in handed}) and len(handed) == 2


def test_a_poll_killed_before_hand_off_leaves_its_entries_for_the_next(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/feed", RSS, "application/rss+xml")
    rt = runtime(tmp_path, redis_url, [f"{site.base}/feed"])
    key = pipeline.feed_id(f"{site.base}/feed")
    first = pipeline.poll_feed(rt, key)
    assert len(first.new_entries) == 2  # ... and the worker dies here, nothing handed off
    # Its hand-off lease has run out: the next poll hands the entries out.
    later = time.time() + rt.hand_off_lease + 1
    second = pipeline.poll_feed(rt, key, now=later)
    assert second.status == "unchanged_body"
    assert [e.id for e in second.new_entries] == [e.id for e in first.new_entries]
    # ... and leases them again: a third poll does not hand them out a second time.
    assert pipeline.poll_feed(rt, key, now=later + 1).new_entries == ()
    for entry in second.new_entries:
        rt.store.finish_entry(key, entry.id)
    assert pipeline.poll_feed(rt, key, now=later + 3 * rt.hand_off_lease).new_entries == ()


def test_an_entry_claim_holds_against_a_second_hand_off_and_sees_a_lost_holder(
    redis_url: str,
) -> None:
    from worker.store import Store, connect

    store = Store(connect(redis_url))
    assert store.claim_entry("e1", "task-a", 60) == "mine"
    assert store.claim_entry("e1", "task-b", 60) == "other"  # a duplicate hand-off
    # The same task delivered again: its worker died holding the entry.
    assert store.claim_entry("e1", "task-a", 60) == "taken"
    # A holder past its deadline (killed by the hard time limit): the next hand-off takes it.
    assert store.claim_entry("e2", "task-a", 0.001) == "mine"
    time.sleep(0.01)
    assert store.claim_entry("e2", "task-b", 60) == "taken"
    assert store.claim_entry("e2", "task-c", 60) == "other"
    store.finish_entry("f1", "e1")
    assert store.claim_entry("e1", "task-a", 60) == "done"
    # The finished claim is not kept forever, but far longer than a redelivery can come.
    assert 7 * 86400 < store.r.ttl("nw:entry:e1") <= 14 * 86400


def test_one_host_is_never_polled_beyond_its_limit(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    active = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(request: BaseHTTPRequestHandler):
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        time.sleep(0.5)
        with lock:
            active["now"] -= 1
        return 200, {"Content-Type": "application/rss+xml"}, RSS

    urls = [f"{site.base}/feed{i}" for i in range(6)]
    for i in range(6):
        site.routes[f"/feed{i}"] = slow
    rt = runtime(tmp_path, redis_url, urls, per_host_concurrency=2)
    results = []
    threads = [
        threading.Thread(
            target=lambda u=u: results.append(pipeline.poll_feed(rt, pipeline.feed_id(u)).status)
        )
        for u in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert active["max"] <= 2
    assert results.count("host_busy") >= 1 and results.count("changed") >= 2
    busy = [u for u in urls if rt.store.feed_state(pipeline.feed_id(u)).last_success is None]
    # Busy feeds are rescheduled a few seconds ahead, not dropped.
    due = rt.store.claim_due("feeds", time.time() + 10, 60)
    assert {pipeline.feed_id(u) for u in busy} <= set(due)


def test_a_failing_feed_raises_failing_once_then_recovered(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/feed", b"down", status=500)
    rt = runtime(tmp_path, redis_url, [f"{site.base}/feed"], feed_failing_after="1h")
    key = pipeline.feed_id(f"{site.base}/feed")
    start = time.time()
    kinds = []
    for offset in (0, 1800, 3700, 7200):
        kinds += [e.type for e in pipeline.poll_feed(rt, key, now=start + offset).events]
    assert kinds == ["feed.failing"]
    state = rt.store.feed_state(key)
    assert state is not None and state.consecutive_errors == 4 and "500" in str(state.last_error)
    site.serve("/feed", RSS, "application/rss+xml")
    recovered = pipeline.poll_feed(rt, key, now=start + 9000)
    assert [e.type for e in recovered.events] == ["feed.recovered"]
    assert recovered.events[0].feed.url == f"{site.base}/feed"


def minutes_apart_feed(base: str, minutes: int, count: int = 6) -> str:
    items = "".join(
        f"<item><title>t{n}</title><link>{base}/a/{n}</link><guid>g{n}</guid>"
        f"<pubDate>Mon, 04 Nov 2024 {n * minutes // 60:02d}:{n * minutes % 60:02d}:00 GMT"
        "</pubDate></item>"
        for n in range(count)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
    )


@pytest.mark.parametrize(
    ("service", "feed"), [({"poll_interval": "1m"}, {}), ({}, {"interval": "1m"})]
)
def test_a_one_minute_feed_is_polled_within_a_minute(
    tmp_path: Path,
    redis_url: str,
    site: LoopbackServer,
    service: dict[str, str],
    feed: dict[str, str],
) -> None:
    # Entries 20 minutes apart: the adaptive schedule would say 10 minutes.
    site.serve("/feed", minutes_apart_feed(site.base, 20), "application/rss+xml")
    config = load_config(
        write_config(
            tmp_path,
            service=service,
            feeds=[{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"], **feed}],
        )
    )
    rt = pipeline.Runtime(config, redis_url)
    pipeline.sync_feeds(rt)
    key = pipeline.feed_id(f"{site.base}/feed")
    now = time.time()
    for offset in (0, 60, 120):  # changed, then the same body twice
        pipeline.poll_feed(rt, key, now=now + offset)
        state = rt.store.feed_state(key)
        assert state.next_poll - (now + offset) <= 60


def test_a_shorter_interval_in_the_config_applies_to_a_feed_already_known(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/feed", minutes_apart_feed(site.base, 20), "application/rss+xml")
    feeds = [{"url": f"{site.base}/feed", "topics": ["nk-troops-russia"]}]
    rt = pipeline.Runtime(load_config(write_config(tmp_path, feeds=feeds)), redis_url)
    pipeline.sync_feeds(rt)
    key = pipeline.feed_id(f"{site.base}/feed")
    now = time.time()
    pipeline.poll_feed(rt, key, now=now)
    assert rt.store.feed_state(key).next_poll - now == 600  # half the 20-minute gap
    # The user sets poll_interval: 1m; the body has not changed since.
    faster = pipeline.Runtime(
        load_config(write_config(tmp_path, feeds=feeds, service={"poll_interval": "1m"})), redis_url
    )
    assert pipeline.poll_feed(faster, key, now=now + 600).status == "unchanged_body"
    assert faster.store.feed_state(key).next_poll - (now + 600) <= 60


def test_a_lost_tick_is_made_up_by_the_next(redis_url: str) -> None:
    from worker.store import Store, connect

    store = Store(connect(redis_url))
    now = time.time()
    store.schedule("feeds", "a", now - 30)  # due during an outage: no tick ran
    store.schedule("feeds", "b", now + 300)
    assert store.claim_due("feeds", now, lease=60) == ["a"]
    assert store.claim_due("feeds", now, lease=60) == []  # leased, not handed twice
    assert store.claim_due("feeds", now + 61, lease=60) == ["a"]  # its task was lost


def test_feeds_add_and_import(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "feeds",
            "add",
            "https://news.example/rss",
            "--topic",
            "nk-troops-russia",
            "--name",
            "News",
            "--config",
            str(config),
        ],
    )
    assert added.exit_code == 0, added.output
    opml = tmp_path / "feeds.opml"
    opml.write_text("""<?xml version="1.0"?><opml version="2.0"><body>
      <outline text="World"><outline text="A" xmlUrl="https://a.example/feed"/>
      <outline text="B" xmlUrl="https://b.example/atom"/></outline>
      <outline text="dup" xmlUrl="https://news.example/rss"/></body></opml>""")
    imported = runner.invoke(
        cli, ["feeds", "import", str(opml), "--topic", "nk-troops-russia", "--config", str(config)]
    )
    assert imported.exit_code == 0 and "imported 2 new feed(s) of 3" in imported.output
    urls = [f.url for f in load_config(config).feeds]
    assert urls == ["https://news.example/rss", "https://a.example/feed", "https://b.example/atom"]
    bad = runner.invoke(
        cli, ["feeds", "add", "https://x.example", "--topic", "nope", "--config", str(config)]
    )
    assert bad.exit_code == 2 and "no topic named 'nope'" in bad.output


@pytest.mark.parametrize(
    "content", [b"<opml><body><outline", b"<!DOCTYPE x [<!ENTITY a 'b'>]><opml/>"]
)
def test_a_broken_opml_file_is_one_clear_error(tmp_path: Path, content: bytes) -> None:
    config = write_config(tmp_path)
    opml = tmp_path / "bad.opml"
    opml.write_bytes(content)
    result = CliRunner().invoke(
        cli, ["feeds", "import", str(opml), "--topic", "nk-troops-russia", "--config", str(config)]
    )
    assert result.exit_code != 0


def test_an_imported_outline_never_expands_environment_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared OPML file asking for `${ALERT_WEBHOOK_SECRET}` gets the text, not the secret."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("HOME", "/root")
    config = write_config(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "feeds",
            "import",
            str(DATA / "hostile" / "feeds-env-reference.opml"),
            "--topic",
            "nk-troops-russia",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    [feed] = load_config(config).feeds
    assert feed.url == ("https://collector.example/feed.xml?k=${ALERT_WEBHOOK_SECRET}&u=$${HOME}")
    assert feed.name == "Wire ${ALERT_WEBHOOK_SECRET:-x}"
    assert secret not in (config / "feeds.yaml").read_text()


def test_the_user_s_own_config_still_expands_and_can_write_a_literal(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        feeds=[
            {"url": "https://a.example/rss?token=${FEED_TOKEN}", "topics": ["nk-troops-russia"]},
            {"url": "https://b.example/rss?t=$${FEED_TOKEN}", "topics": ["nk-troops-russia"]},
        ],
    )
    urls = [f.url for f in load_config(config, env={"FEED_TOKEN": "t0k"}).feeds]
    assert urls == ["https://a.example/rss?token=t0k", "https://b.example/rss?t=${FEED_TOKEN}"]


def test_poll_once_with_no_feeds_says_so_without_starting_workers(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    started: list[object] = []
    monkeypatch.setattr("worker.launcher.start_workers", lambda *a, **k: started.append(a))
    result = CliRunner().invoke(cli, ["poll", "--once", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "no feeds are configured" in result.output
    assert "polled 0 feed(s)" in result.output
    assert started == []

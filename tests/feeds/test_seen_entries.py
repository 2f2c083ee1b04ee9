"""A feed's seen entries in a real Redis: bounded by what the feed lists plus a horizon,
with every entry still listed handed off once, and an old entry listed again not written
twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

import redis

from tests.support import write_config
from worker import pipeline
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.store import EntryFailure, Store, connect

DAY = 86400.0
TOPIC = "nk-troops-russia"


def rss(base: str, ids: list[str]) -> str:
    items = "".join(
        f"<item><title>Berita {i}</title><link>{base}/berita/{i}</link><guid>{i}</guid>"
        f"<description>Berita {i}</description></item>"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Kabar</title><link>{base}/</link>{items}</channel></rss>"
    )


ARTICLES = {
    "a": (
        "Korea Utara telah mengirim sekitar 11.000 tentara ke wilayah Kursk di Rusia, kata "
        "kementerian pertahanan Korea Selatan pada Rabu.",
        "Pejabat itu menambahkan bahwa jumlah korban di antara pasukan tersebut masih belum "
        "jelas dan pemantauan terus dilakukan.",
    ),
    "b": (
        "Badan intelijen Seoul melaporkan gelombang kedua pasukan Pyongyang tiba di "
        "perbatasan Rusia bulan lalu bersama peralatan artileri.",
        "Menurut laporan itu, para prajurit menjalani pelatihan drone sebelum dikirim ke "
        "garis depan di dekat Kursk.",
    ),
}


def article(n: str) -> str:
    paragraphs = "".join(f"<p>{text}</p>" for text in ARTICLES[n])
    return (
        f"<html lang='id'><head><title>Berita {n}</title></head><body><article>"
        f"<h1>Berita {n}</h1>{paragraphs}</article></body></html>"
    )


def setup(folder: Path, redis_url: str, site: LoopbackServer) -> tuple[pipeline.Runtime, str]:
    url = f"{site.base}/feed"
    config = load_config(write_config(folder, feeds=[{"url": url, "topics": [TOPIC]}]))
    rt = pipeline.Runtime(config, redis_url)
    pipeline.sync_feeds(rt)
    return rt, pipeline.feed_id(url)


def list_entries(site: LoopbackServer, ids: list[str]) -> None:
    site.serve("/feed", rss(site.base, ids), "application/rss+xml")


def test_a_rotating_feed_keeps_its_seen_set_bounded_and_hands_each_entry_off_once(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    rt, key = setup(tmp_path, redis_url, site)
    per_poll, window, polls = 3, 10, 120
    horizon = pipeline.seen_horizon(rt, rt.config.feeds[0])
    handed: list[str] = []
    sizes = []
    start = time.time()
    for poll in range(polls):
        # One entry stays listed throughout; the rest rotate, `per_poll` new ones a day.
        newest = [f"r{n}" for n in range(poll * per_poll, poll * per_poll + window - 1)]
        list_entries(site, ["pinned", *newest])
        result = pipeline.poll_feed(rt, key, now=start + poll * DAY)
        assert result.status == "changed"
        for entry in result.new_entries:
            handed.append(entry.title)
            rt.store.finish_entry(key, entry.id)  # as the task does once it is processed
        sizes.append(rt.store.seen_count(key))
    listed_ever = (polls - 1) * per_poll + window
    assert sorted(handed) == sorted(set(handed)) and len(handed) == listed_ever
    assert handed.count("Berita pinned") == 1
    # What it lists, and what it stopped listing within the horizon: no more.
    bound = window + per_poll * (horizon / DAY + 1)
    assert max(sizes) <= bound < listed_ever


def test_an_entry_listed_again_after_it_was_forgotten_is_not_written_twice(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    rt, key = setup(tmp_path, redis_url, site)
    for n in ("a", "b"):
        site.serve(f"/berita/{n}", article(n))
    horizon = pipeline.seen_horizon(rt, rt.config.feeds[0])
    start = time.time()

    def poll_and_process(ids: list[str], now: float) -> list[pipeline.IngestOutcome]:
        list_entries(site, ids)
        result = pipeline.poll_feed(rt, key, now=now)
        outcomes = []
        for entry in result.new_entries:
            processed = pipeline.process_entry(
                rt, key, entry, [TOPIC], baseline=result.is_baseline(entry)
            )
            rt.store.finish_entry(key, entry.id)
            outcomes += processed.outcomes
        return outcomes

    assert [o.status for o in poll_and_process(["a"], start)] == ["new"]
    assert [o.status for o in poll_and_process(["b"], start + DAY)] == ["new"]
    # The feed changes after "a" has gone unlisted for longer than the horizon: its seen
    # set forgets "a" and holds what the feed lists.
    poll_and_process(["b", "c"], start + DAY + horizon + 1)
    assert rt.store.seen_count(key) == 2
    # Listed again, it is handed off again, and found held: nothing written, no alert.
    [again] = poll_and_process(["a", "b", "c"], start + 2 * DAY + horizon)
    assert again.status == "unchanged" and again.events == []
    manifest = (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["url"] for line in manifest) == [
        f"{site.base}/berita/a",
        f"{site.base}/berita/b",
    ]
    assert len(list((tmp_path / "corpus").glob("*.txt"))) == 2


def stage(store: Store, feed: str, ids: list[str], now: float) -> None:
    store.listed_entries(feed, ids, now, 0.0)
    store.stage_new_entries(feed, {i: json.dumps({"id": i}) for i in ids}, now + 600, now)


def test_a_forgotten_parked_failure_leaves_with_its_record_and_a_retrying_one_stays(
    redis_url: str,
) -> None:
    store = Store(connect(redis_url))
    now = time.time()
    stage(store, "f1", ["parked", "retrying"], now)
    for entry, retry_at in (("parked", None), ("retrying", now + 3600)):
        store.entry_failed(EntryFailure("f1", entry, None, "HTTP 404", 5, now, retry_at))
    later = now + 40 * DAY
    assert store.listed_entries("f1", ["new"], later, forget_before=later - 30 * DAY) == ["new"]
    assert set(store.outbox("f1")) == {"retrying"}
    assert [f.entry for f in store.failures()] == ["retrying"]
    assert store.seen_count("f1") == 1  # "retrying"; "new" is added when it is staged


def test_a_seen_set_written_before_ids_were_scored_is_kept_and_then_bounded(
    redis_url: str,
) -> None:
    store = Store(connect(redis_url))
    store.r.sadd("nw:seen:f1", "old-1", "old-2", "still-listed")
    now = time.time()
    assert store.listed_entries("f1", ["still-listed", "new"], now, now - 30 * DAY) == ["new"]
    assert store.seen_count("f1") == 3
    later = now + 31 * DAY
    assert store.listed_entries("f1", ["still-listed"], later, later - 30 * DAY) == []
    assert store.seen_count("f1") == 1


def test_a_feed_taken_out_of_the_config_has_its_keys_expire_unless_it_comes_back(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    rt, key = setup(tmp_path, redis_url, site)
    list_entries(site, ["a"])
    for entry in pipeline.poll_feed(rt, key).new_entries:
        rt.store.finish_entry(key, entry.id)
    raw = redis.Redis.from_url(redis_url)
    gone = pipeline.Runtime(load_config(write_config(tmp_path / "other")), redis_url)
    assert pipeline.poll_feed(gone, key).status == "unknown"
    assert 0 < raw.ttl(f"nw:seen:{key}") <= pipeline.UNLISTED_KEPT
    assert 0 < raw.ttl(f"nw:feed:{key}") <= pipeline.UNLISTED_KEPT
    pipeline.sync_feeds(rt)  # configured again
    assert pipeline.poll_feed(rt, key, now=time.time() + 3600).new_entries == ()
    assert raw.ttl(f"nw:seen:{key}") == -1 and raw.ttl(f"nw:feed:{key}") == -1


def test_a_long_listing_is_recorded_whole(redis_url: str) -> None:
    store = Store(connect(redis_url))
    now = time.time()
    ids = [f"e{n}" for n in range(2500)]

    def processed(listed: list[str], when: float) -> None:
        stage(store, "f1", listed, when)
        for entry in listed:
            store.finish_entry("f1", entry)

    processed(ids[:1200], now)
    assert store.listed_entries("f1", ids, now + DAY, now) == ids[1200:]
    processed(ids[1200:], now + DAY)
    assert store.seen_count("f1") == 2500
    # Those listed on the second day and not since are forgotten after the first ten.
    assert store.listed_entries("f1", ids[:10], now + 3 * DAY, now + DAY + 1) == []
    assert store.seen_count("f1") == 10

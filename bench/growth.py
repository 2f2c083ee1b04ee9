"""Redis growth while feeds keep publishing: many rotations of feeds, polled in process.

A loopback server serves N feeds, each listing a window of entries of which `new_per_day`
are new every simulated day (one poll a day, `now` moved a day on each time, so the
horizon after which an unlisted id is forgotten is reached in the run). Every entry handed
off is recorded as processed (as the entry task does once it is done), and its article's
lines are counted in its source's line counter: each article quotes four lines of the one
before it (an update, a follow-up), and two boilerplate lines appear on every page.

The baseline, in the same run and the same Redis (database 1): the keys as they were
before bounds (the seen set kept every id a feed ever listed: the ids handed off; the line
counter only dropped lines seen once, past the same cap), fed the same ids and lines.
Measured per rotation: members and bytes (MEMORY USAGE) of the seen sets and line
counters, and the microseconds one document's line count takes (mean over the last 20
days: ageing a counter is one long step now and then), of each. Entry claims
(`entry:<id>`) are left out: they expire 14 real days after processing in both, and a
simulated day does not run out a real TTL.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import yaml

from bench.common import median, write_result
from worker.demo.servers import LoopbackServer
from worker.store.embedded import start_redis

DAY = 86400.0

# lua/count_lines.lua before it aged counts: past the cap, lines counted once are dropped.
PRUNE_ONCE_SEEN = """
for i = 1, #ARGV - 1 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
end
if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[#ARGV]) then
  local counts = redis.call('HGETALL', KEYS[1])
  for i = 1, #counts, 2 do
    if counts[i + 1] == '1' then redis.call('HDEL', KEYS[1], counts[i]) end
  end
end
return #ARGV - 1
"""


def rss(base: str, feed: int, ids: range) -> bytes:
    items = "".join(
        f"<item><title>Berita {feed}-{i}</title><link>{base}/berita/{feed}/{i}</link>"
        f"<guid>{feed}-{i}</guid><description>Berita {i}</description></item>"
        for i in ids
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Kabar {feed}</title><link>{base}/</link>{items}</channel></rss>"
    ).encode()


def article_lines(feed: int, item: int) -> list[str]:
    own = [f"Paragraf {feed}-{item}-{n}: laporan tentang pasukan di garis depan." for n in range(8)]
    quoted = [f"Kutipan {feed}-{item - 1}-{n} dari laporan sebelumnya." for n in range(4)]
    quoting = [f"Kutipan {feed}-{item}-{n} dari laporan sebelumnya." for n in range(4)]
    boilerplate = ["Ikuti saluran WhatsApp Kabar Dunia.", "© Kabar Dunia"]
    return [*own, *quoted, *quoting, *boilerplate]


def key_bytes(client: redis.Redis, pattern: str) -> tuple[int, int]:
    """(keys, bytes) of the keys matching `pattern`, as MEMORY USAGE counts them."""
    keys = list(client.scan_iter(pattern, count=1000))
    return len(keys), sum(int(client.memory_usage(k, samples=0) or 0) for k in keys)


def main(
    feeds: int = 10, window: int = 40, new_per_day: int = 20, days: int = 150
) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="newswatch-growth-"))
    server = start_redis(folder / "redis", append_only=False)
    from worker import pipeline
    from worker.config import load_config
    from worker.store import LINES_KEPT, _line_key

    site = LoopbackServer().__enter__()
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    topic = {"id": "growth", "title": "Growth", "relevance": {"all": [{"any": ["pasukan"]}]}}
    (config / "topics" / "growth.yaml").write_text(yaml.safe_dump(topic))
    (config / "newswatch.yaml").write_text(
        yaml.safe_dump({"data_dir": str(folder / "data"), "allow_private_networks": True})
    )
    urls = [f"{site.base}/feed/{f}" for f in range(feeds)]
    (config / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"url": u, "topics": ["growth"]} for u in urls]})
    )
    rt = pipeline.Runtime(load_config(config), server.url)
    pipeline.sync_feeds(rt)
    keys = [pipeline.feed_id(u) for u in urls]
    horizon = pipeline.seen_horizon(rt, rt.config.feeds[0])
    before = redis.Redis(port=server.port, db=1, decode_responses=True)
    prune_once_seen = before.register_script(PRUNE_ONCE_SEEN)
    after = rt.store.r

    start = time.time()
    rows = []
    handed = 0
    count_us: dict[str, list[float]] = {"after": [], "before": []}
    for day in range(days):
        for f, key in enumerate(keys):
            first = day * new_per_day
            site.serve(f"/feed/{f}", rss(site.base, f, range(first, first + window)))
            result = pipeline.poll_feed(rt, key, now=start + day * DAY)
            assert result.status == "changed", result
            for entry in result.new_entries:
                rt.store.finish_entry(key, entry.id)
                before.sadd(f"nw:seen:{key}", entry.id)
                item = int(entry.title.rsplit("-", 1)[1])
                lines = article_lines(f, item)
                began = time.perf_counter()
                rt.store.count_lines(f"kabar-{f}", lines)
                count_us["after"].append((time.perf_counter() - began) * 1e6)
                began = time.perf_counter()
                fields = sorted({_line_key(line) for line in lines})
                prune_once_seen(keys=[f"nw:lines:kabar-{f}"], args=[*fields, LINES_KEPT])
                count_us["before"].append((time.perf_counter() - began) * 1e6)
            handed += len(result.new_entries)
        if day % 20 == 19 or day == days - 1:
            row = {"day": day + 1, "entries_listed_ever": handed}
            for name, client in (("after", after), ("before", before)):
                _, seen_bytes = key_bytes(client, "nw:seen:*")
                size = client.scard if client is before else client.zcard
                members = sum(int(size(k)) for k in client.scan_iter("nw:seen:*"))
                _, lines_bytes = key_bytes(client, "nw:lines:*")
                fields = sum(int(client.hlen(k)) for k in client.scan_iter("nw:lines:*"))
                recent = count_us[name][-feeds * new_per_day * 20 :]
                row[name] = {
                    "seen_members": members,
                    "seen_bytes": seen_bytes,
                    "line_fields": fields,
                    "lines_bytes": lines_bytes,
                    "count_lines_us_median": round(median(recent), 1),
                    "count_lines_us_mean": round(sum(recent) / len(recent), 1),
                }
            row["keys_other_than_claims"] = sum(
                1 for k in after.scan_iter("nw:*") if not k.startswith("nw:entry:")
            )
            row["redis_used_memory_mb"] = round(int(after.info("memory")["used_memory"]) / 2**20, 2)
            rows.append(row)
            a, b = row["after"], row["before"]
            print(
                f"  day {row['day']:>3}: {handed:>6} ids listed ever; seen sets "
                f"{a['seen_members']:>5} ids {a['seen_bytes'] / 1024:>7.1f} KiB "
                f"(before: {b['seen_members']:>6} ids {b['seen_bytes'] / 1024:>7.1f} KiB); "
                f"line counters {a['line_fields']:>6} lines {a['lines_bytes'] / 1024:>6.0f} KiB, "
                f"{a['count_lines_us_mean']:>6.0f} µs/doc (before: {b['line_fields']:>6} "
                f"lines {b['lines_bytes'] / 1024:>6.0f} KiB, {b['count_lines_us_mean']:>6.0f} "
                f"µs/doc); {row['keys_other_than_claims']} keys besides claims",
                flush=True,
            )
    site.__exit__()
    server.stop()
    last = rows[-1]
    figures = {
        "feeds": feeds,
        "window": window,
        "new_per_feed_per_day": new_per_day,
        "days": days,
        "horizon_days": horizon / DAY,
        "lines_kept": LINES_KEPT,
        "rotations": rows,
        "seen_members_bound": feeds * (window + new_per_day * (horizon / DAY + 1)),
        "seen_bytes_ratio_to_before": round(
            last["after"]["seen_bytes"] / last["before"]["seen_bytes"], 3
        ),
        "count_lines_us_ratio_to_before": round(
            last["after"]["count_lines_us_mean"] / last["before"]["count_lines_us_mean"], 3
        ),
    }
    print(
        f"growth: after {days} days ({handed} entries), seen sets hold "
        f"{last['after']['seen_members']} ids (bound {figures['seen_members_bound']:.0f}; "
        f"before: {last['before']['seen_members']}), {figures['seen_bytes_ratio_to_before']}× "
        f"the bytes; a line count takes {figures['count_lines_us_ratio_to_before']}× the time"
    )
    write_result("growth", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

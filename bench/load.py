"""Load run: a burst of new entries across many feeds through real workers.

A farm process serves N feeds (on 50 loopback hosts), each listing M new entries whose
pages hold distinct on-topic articles. All feeds are polled at once (as a tick after a
burst would), and the workers (prefork for articles, threads for polls) take it from
there (each feed's first poll, listing nothing yet, is its baseline; then every feed
publishes at once). Measured: entries processed per second, end-to-end latency from the
burst to each entry's completion (median, 95th percentile) and from publication to each
alert's arrival at a loopback webhook receiver, worker memory (PSS, which counts a page
shared by forked children once, summed over every worker process, sampled each second;
idle before the burst and the peak under load), Redis memory (in all, and by kind of
key) after the run and after the same run again (every feed polled again, listing what was
handled), and queue depth.

Two kinds of page (`--pages`): "short", the original farm's ~150-word pages of 1.5 KB
(bench/results/load.json), and "news", pages shaped like the standard benchmark's real
news pages — a site template of some 740 elements 10 deep around an article of about
600 words (the benchmark's median: 785 elements 16 deep, 580 words) — where trafilatura
does the work it does on real pages (bench/results/load-news.json). What newswatch adds
to extraction is about the same per entry on both; the short pages make it loom large.

The baseline, measured in the same run before the workers start and after they stop (the
mean of the two): plain
`trafilatura.extract` on the same pages in as many processes as the article pool has
(pages per second, and CPU per page), and the ratios of newswatch to it: by wall time,
and by CPU (all worker processes' CPU during the burst, polls and deliveries included,
per entry), which the other work on a shared machine disturbs far less.
"""

from __future__ import annotations

import argparse
import base64
import email.utils
import multiprocessing
import os
import random
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis
import trafilatura
import yaml

from bench.common import FarmHandler, median, percentile, start_farm, write_result
from worker.store.embedded import EmbeddedRedis, start_redis

HOSTS = 50
WORDS = (
    "pasukan tentara Korea Utara Rusia Kursk Seoul Pyongyang Moskow pejabat intelijen "
    "laporan wilayah garis depan kereta api latihan artileri unit marinir komandan "
    "pertempuran serangan pertahanan kementerian diplomat sanksi perbatasan amunisi rudal "
    "drone kapal pelabuhan jembatan desa kota sungai musim dingin logistik bahan bakar"
).split()


def article(feed: int, item: int) -> bytes:
    rng = random.Random(feed * 100_003 + item)
    troops = f"{rng.randint(1, 30)}.{rng.randint(0, 999):03d}"
    paragraphs = [
        f"Korea Utara telah mengirim sekitar {troops} tentara ke Rusia, menurut "
        f"laporan {feed}-{item} dari meja internasional."
    ]
    for _ in range(4):
        words = [rng.choice(WORDS) for _ in range(rng.randint(25, 40))]
        paragraphs.append(" ".join(words).capitalize() + ".")
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<html lang='id'><head><title>Laporan {feed}-{item}</title></head><body>"
        f"<nav><a href='/'>Beranda</a></nav><article><h1>Laporan {feed}-{item}</h1>{body}"
        f"</article><footer>© 2024</footer></body></html>"
    ).encode()


SECTIONS = (
    "Nasional Internasional Ekonomi Olahraga Teknologi Hiburan Otomotif Kesehatan Sains Opini "
    "Foto Video Daerah Politik Hukum Pendidikan Wisata Kuliner Properti Karier"
).split()


def _sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize()


def _links(rng: random.Random, count: int, cls: str) -> str:
    return "".join(
        f"<li class='{cls}__item'><a class='{cls}__link' href='/{rng.choice(SECTIONS).lower()}/"
        f"{rng.randrange(10**7)}'>{_sentence(rng, 5, 10)}</a></li>"
        for _ in range(count)
    )


def _cards(rng: random.Random, count: int, cls: str) -> str:
    """Story cards (picture, headline, time), as sidebars and story grids list them."""
    return "".join(
        f"<li class='{cls}__item card'><div class='card__inner'><a class='card__media' "
        f"href='/berita/{rng.randrange(10**7)}'><picture><img src='/img/{rng.randrange(10**9):x}"
        f".jpg' alt='' loading='lazy'></picture></a><div class='card__body'><h3 "
        f"class='card__title'><a href='/berita/{rng.randrange(10**7)}'>{_sentence(rng, 6, 11)}"
        f"</a></h3><time class='card__time'>{rng.randint(1, 23)} jam lalu</time></div></div></li>"
        for _ in range(count)
    )


def _wrapped(html: str, *classes: str) -> str:
    for cls in reversed(classes):
        html = f"<div class='{cls}'>{html}</div>"
    return html


def _site(host: int) -> tuple[str, str, str]:
    """One site's template, the same on each of its pages: styles, scripts, header, footer."""
    rng = random.Random(host)
    props = "margin padding color font-size line-height display border width background".split()
    styles = "".join(
        f".c-{rng.randrange(16**6):06x} .e-{rng.randrange(10**4)}{{"
        + ";".join(f"{rng.choice(props)}:{rng.randint(0, 40)}px" for _ in range(5))
        + "}"
        for _ in range(220)
    )
    scripts = "".join(
        "<script>window.dataLayer=window.dataLayer||[];"
        + "".join(
            f"dataLayer.push({{'slot':'{rng.randrange(10**9):09d}','v':{rng.random():.6f}}});"
            for _ in range(30)
        )
        + "</script>"
        for _ in range(8)
    )
    nav = "".join(
        f"<li class='nav__item'><a class='nav__link' href='/{name.lower()}'>{name}</a></li>"
        for name in SECTIONS
    )
    icons = "".join(
        f"<a class='share__{name}' href='#'><svg viewBox='0 0 24 24'><path d='M{rng.randint(1, 9)}"
        f" 2h{rng.randint(1, 9)}v20z'/></svg></a>"
        for name in ("fb", "x", "wa", "tg", "line", "mail")
    )
    header = _wrapped(
        f"<a class='logo' href='/'>Kabar {host}</a><nav class='nav'><ul>{nav}</ul></nav>"
        f"<div class='ticker'><ul>{_links(rng, 10, 'ticker')}</ul></div>",
        "site-header",
        "container",
        "row",
    )
    footer = _wrapped(
        f"<ul>{_links(rng, 40, 'footer')}</ul><p>© 2024 Kabar {host}. Hak cipta dilindungi.</p>",
        "site-footer",
        "container",
    )
    return f"<style>{styles}</style>{scripts}", header, footer + f"<div class='share'>{icons}</div>"


def news_page(feed: int, item: int) -> bytes:
    """A page shaped like the standard benchmark's real news pages (median 785 elements
    16 deep, 135 links, 31 KB of scripts and styles, 580 words of article): the site's
    template around an article of about 600 words, with related-story boxes inside it and
    story cards beside and below it."""
    rng = random.Random(feed * 100_003 + item)
    head, header, footer = _site(feed % HOSTS)
    troops = f"{rng.randint(1, 30)}.{rng.randint(0, 999):03d}"
    paragraphs = [
        f"Korea Utara telah mengirim sekitar {troops} tentara ke Rusia, menurut "
        f"laporan {feed}-{item} dari meja internasional."
    ]
    paragraphs += [
        ". ".join(_sentence(rng, 12, 24) for _ in range(rng.randint(2, 3))) + "." for _ in range(14)
    ]
    related = "<div class='related'><strong>Baca juga:</strong> <a href='/r/{}'>{}</a></div>"
    body = "".join(
        f"<p>{p}</p>"
        + (related.format(rng.randrange(10**6), _sentence(rng, 6, 9)) if i in (3, 8) else "")
        for i, p in enumerate(paragraphs)
    )
    comments = "".join(
        f"<li class='comment'><span class='comment__author'>Pembaca {rng.randrange(999)}"
        f"</span><p>{_sentence(rng, 8, 20)}.</p></li>"
        for _ in range(5)
    )
    article = _wrapped(
        f"<h1>Laporan {feed}-{item}</h1><div class='byline'>Redaksi · 12 November 2024</div>"
        f"<figure><img src='/img/{feed}-{item}.jpg' alt=''><figcaption>{_sentence(rng, 6, 12)}"
        f"</figcaption></figure><div class='article__body'>{body}</div>",
        "layout",
        "layout__main",
        "article-wrap",
    )
    aside = _wrapped(
        f"<h2>Terpopuler</h2><ul>{_cards(rng, 10, 'popular')}</ul><h2>Terkini</h2><ul>"
        f"{_cards(rng, 15, 'latest')}</ul>",
        "layout__side",
        "sticky",
    )
    more = _wrapped(f"<h2>Berita lainnya</h2><ul>{_cards(rng, 30, 'more')}</ul>", "more", "grid")
    return (
        f"<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>"
        f"<title>Laporan {feed}-{item}</title>{head}</head><body>{header}<main>"
        f"<article class='article'>{article}</article>{aside}"
        f"<section class='comments'><h2>Komentar</h2><ul>{comments}</ul></section>{more}"
        f"</main>{footer}</body></html>"
    ).encode()


# The pages a run serves: "short" (the original farm: ~150 words in 1.5 KB, where
# trafilatura takes 1-2 ms), "news" (shaped like real news pages, where it takes 15-30 ms).
PAGES = {"short": article, "news": news_page}


def farm_handler(per_feed: int, pages: str = "short") -> type[FarmHandler]:
    page = PAGES[pages]
    published = {"yes": False, "date": ""}

    class Handler(FarmHandler):
        def do_GET(self) -> None:
            if self.path == "/publish":  # from now on every feed lists its entries
                published["yes"] = True
                published["date"] = email.utils.formatdate(usegmt=True)
                self.send(200, b"ok", {})
                return
            parts = self.path.strip("/").split("/")
            feed = int(parts[1])
            if parts[0] == "feed":
                host = self.headers.get("Host", "")
                items = "".join(
                    f"<item><title>Laporan {feed}-{i}</title><link>http://{host}/a/{feed}/{i}"
                    f"</link><guid>{feed}-{i}</guid><pubDate>{published['date']}</pubDate></item>"
                    for i in range(per_feed if published["yes"] else 0)
                )
                body = f'<rss version="2.0"><channel><title>F{feed}</title>{items}</channel></rss>'
                self.send(200, body.encode(), {"Content-Type": "application/rss+xml"})
            else:
                self.send(
                    200, page(feed, int(parts[2])), {"Content-Type": "text/html; charset=utf-8"}
                )

    return Handler


class Receiver(ThreadingHTTPServer):
    """A webhook endpoint that notes when each delivery arrives."""

    daemon_threads = True

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                arrivals.append(time.time())
                self.send_response(204)
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def pss_mb(pids: list[int], by_process: dict[str, float] | None = None) -> float:
    """Proportional set size of the processes and their children, in MB; the largest
    seen for each (worker n, child n.k) is kept in `by_process`."""
    total = 0
    for number, pid in enumerate(pids):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for index, process in enumerate([pid, *map(int, children)]):
            try:
                rollup = Path(f"/proc/{process}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in rollup.splitlines():
                if line.startswith("Pss:"):
                    kb = int(line.split()[1])
                    total += kb
                    if by_process is not None:
                        name = f"worker {number}" + (f" child {index}" if index else "")
                        by_process[name] = max(by_process.get(name, 0.0), kb / 1024)
    return total / 1024


def _commands(client: redis.Redis, field: str = "calls") -> Counter[str]:
    """Per command: calls, or microseconds spent ("usec"; a script's own commands are
    counted in its EVALSHA's time and again under their names)."""
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v[field]) for name, v in stats.items()})


def _redis_cpu(client: redis.Redis) -> float:
    """CPU seconds (user + system) the Redis server has used."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by the processes and their live children."""
    used = cpu_by_process(pids, [str(pid) for pid in pids])
    return sum(user + system for user, system in used.values())


def cpu_by_process(pids: list[int], names: list[str]) -> dict[str, tuple[float, float]]:
    """CPU seconds (user, system) used so far by each process and each of its live
    children, keyed "<name>" and "<name> child <pid>"."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[str, tuple[float, float]] = {}
    for pid, name in zip(pids, names, strict=True):
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for process in [pid, *map(int, children)]:
            try:
                fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            key = name if process == pid else f"{name} child {process}"
            found[key] = (int(fields[11]) / ticks, int(fields[12]) / ticks)
    return found


def cpu_split(
    before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], entries: int
) -> dict[str, dict[str, float]]:
    """ms per entry of user and system CPU by kind of process between two readings: each
    worker's main process, and its children together (a child replaced meanwhile counts
    until its last reading)."""
    split: dict[str, dict[str, float]] = {}
    for key in before.keys() | after.keys():
        user0, system0 = before.get(key, (0.0, 0.0))
        user1, system1 = after.get(key, (user0, system0))
        kind = key.split(" child ")[0] + (" children" if " child " in key else "")
        row = split.setdefault(kind, {"user": 0.0, "system": 0.0})
        row["user"] += (user1 - user0) * 1000 / max(1, entries)
        row["system"] += (system1 - system0) * 1000 / max(1, entries)
    return {kind: {k: round(v, 2) for k, v in row.items()} for kind, row in sorted(split.items())}


def _extract(page: bytes) -> float:
    started = time.process_time()
    trafilatura.extract(page.decode("utf-8"))
    return time.process_time() - started


def trafilatura_alone(
    feeds: int, per_feed: int, processes: int, kind: str = "short"
) -> tuple[float, float]:
    """Plain trafilatura on the same pages in `processes` processes: pages per second, and
    CPU seconds per page."""
    pages = [PAGES[kind](f, i) for f in range(feeds) for i in range(per_feed)]
    with multiprocessing.Pool(processes) as pool:
        pool.map(_extract, pages[:processes])  # imports and warm-up
        started = time.perf_counter()
        cpu = sum(pool.map(_extract, pages, chunksize=16))
        return len(pages) / (time.perf_counter() - started), cpu / len(pages)


def memory_by_kind(client: redis.Redis) -> dict[str, dict[str, float]]:
    """Keys and MB (MEMORY USAGE) per kind of key: `nw:<kind>:…`, or Celery's others."""
    kinds: dict[str, dict[str, float]] = {}
    keys = [k.decode() if isinstance(k, bytes) else k for k in client.scan_iter(count=1000)]
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key, samples=0)
        for key, size in zip(chunk, pipe.execute(), strict=True):
            kind = key.split(":")[1] if key.startswith("nw:") else "celery and others"
            row = kinds.setdefault(kind, {"keys": 0, "mb": 0.0})
            row["keys"] += 1
            row["mb"] += (size or 0) / 2**20
    return {
        kind: {"keys": int(row["keys"]), "mb": round(row["mb"], 2)}
        for kind, row in sorted(kinds.items(), key=lambda item: -item[1]["mb"])
    }


def feed_url(port: int, feed: int) -> str:
    """Feed `feed` of the farm on `port`, on one of its HOSTS loopback addresses."""
    return f"http://127.0.0.{2 + feed % HOSTS}:{port}/feed/{feed}"


def write_config(
    folder: Path, port: int, feeds: int, hook: str, entry_batch: int | None = None
) -> Path:
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    topic = {
        "id": "load",
        "title": "Load",
        "relevance": {"all": [{"any": ["Korea Utara"]}]},
        "entities": {"north-korea": ["Korea Utara"]},
        "figures": {"troops": {"label": "t", "about": "north-korea", "units": ["tentara"]}},
    }
    (config / "topics" / "load.yaml").write_text(yaml.safe_dump(topic))
    service = {
        "data_dir": str(folder / "data"),
        "allow_private_networks": True,
        "per_host_concurrency": 8,
    }
    if entry_batch:
        service["entry_batch"] = entry_batch
    (config / "newswatch.yaml").write_text(yaml.safe_dump(service))
    os.environ["LOAD_WEBHOOK_SECRET"] = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    alerts = {
        "channels": {"hook": {"type": "webhook", "url": hook, "secret": "${LOAD_WEBHOOK_SECRET}"}},
        "routes": [{"topics": ["*"], "events": ["*"], "channels": ["hook"]}],
    }
    (config / "alerts.yaml").write_text(yaml.safe_dump(alerts))
    listed = [{"url": feed_url(port, f), "topics": ["load"]} for f in range(feeds)]
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": listed}))
    return config


def start_service(
    folder: Path, port: int, feeds: int, entry_batch: int | None = None
) -> tuple[Receiver, Path, EmbeddedRedis]:
    """A webhook receiver, the config for `feeds` feeds of the farm on `port`, and a Redis
    of the run's own, named in the environment the workers will inherit."""
    receiver = Receiver()
    config = write_config(
        folder, port, feeds, f"http://127.0.0.1:{receiver.server_address[1]}/hook", entry_batch
    )
    server = start_redis(folder / "redis", append_only=True)
    os.environ["NEWSWATCH_CONFIG_DIR"] = str(config)
    os.environ["NEWSWATCH_REDIS_URL"] = server.url
    # The language model's unpacked copy in a cache of the run's own: mapped by the workers
    # alone, not shared with (and its pages not split among) other checkouts' processes.
    os.environ["XDG_CACHE_HOME"] = str(folder / "cache")
    return receiver, config, server


def main(
    feeds: int = 500,
    per_feed: int = 20,
    timeout: float = 1800,
    pages: str = "short",
    entry_batch: int | None = None,
) -> dict[str, Any]:
    port, farm = start_farm(farm_handler, per_feed, pages)
    # Plain trafilatura before the workers start and again after they stop: the machine's
    # load can change between the two phases (other jobs start or end), and a baseline
    # taken on one side only moved the ratio by a fifth. The ratio uses their mean.
    before = trafilatura_alone(feeds, per_feed, processes=2, kind=pages)
    folder = Path(tempfile.mkdtemp(prefix="newswatch-load-"))
    receiver, config, server = start_service(folder, port, feeds, entry_batch)
    from worker import launcher, pipeline, tasks
    from worker.config import load_config

    settings = load_config(config)
    services = launcher.Services(server.url)
    launcher.start_workers(services, settings, quiet=True)
    samples: list[dict[str, float]] = []
    by_process: dict[str, float] = {}
    try:
        assert launcher.wait_for_worker(60), "workers did not start"
        rt = tasks.runtime()
        pipeline.sync_feeds(rt)
        client = redis.Redis.from_url(server.url)
        run = uuid.uuid4().hex[:12]
        stop = threading.Event()
        pids = [c.pid for c in services.children]
        names = [services.specs[pid].name for pid in pids]
        last_cpu: dict[str, tuple[float, float]] = {}

        def sample() -> None:
            while not stop.is_set():
                samples.append(
                    {
                        "t": time.time(),
                        "pss_mb": pss_mb(pids, by_process),
                        "queue": client.llen("newswatch"),
                        "io_queue": client.llen("newswatch.io"),
                    }
                )
                last_cpu.update(cpu_by_process(pids, names))
                time.sleep(1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        time.sleep(3)  # idle samples, workers started and waiting
        idle_pss = max(s["pss_mb"] for s in samples)

        def poll_every_feed(run: str) -> None:
            for f in range(feeds):
                tasks.send(
                    tasks.poll_feed,
                    pipeline.feed_id(feed_url(port, f)),
                    run=run,
                )
            deadline = time.monotonic() + timeout
            while rt.store.run_pending(run) > 0 and time.monotonic() < deadline:
                time.sleep(0.5)

        # Day one: each feed's first poll is its baseline (nothing listed yet); then every
        # feed publishes its entries at once, and the next poll finds them.
        poll_every_feed(uuid.uuid4().hex[:12])
        urllib.request.urlopen(f"http://127.0.0.1:{port}/publish").read()
        burst, cpu_before = time.time(), cpu_seconds(pids)
        split_before = cpu_by_process(pids, names)
        commands_before, usec_before = _commands(client), _commands(client, "usec")
        redis_cpu_before = _redis_cpu(client)
        poll_every_feed(run)  # deliveries are part of the run: all made when it returns
        worker_cpu = cpu_seconds(pids) - cpu_before
        last_cpu.update(cpu_by_process(pids, names))
        split_after = dict(last_cpu)
        redis_cpu = _redis_cpu(client) - redis_cpu_before
        commands = _commands(client) - commands_before
        usec = _commands(client, "usec") - usec_before
        stop.set()
        sampler.join()
        finished = rt.store.run_marks(run, "entries")
        stats = rt.store.stats(run)
        redis_mb = int(client.info("memory")["used_memory"]) / 2**20
        redis_kinds = memory_by_kind(client)
        # The same run again: every feed lists the same entries, all already handled.
        poll_every_feed(uuid.uuid4().hex[:12])
        redis_mb_again = int(client.info("memory")["used_memory"]) / 2**20
        redis_kinds_again = memory_by_kind(client)
    finally:
        launcher.stop_children(services, timeout=30)
        server.stop()
        farm.kill()
    after = trafilatura_alone(feeds, per_feed, processes=2, kind=pages)
    baseline, baseline_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    latencies = [t - burst for t in finished]
    webhook = [t - burst for t in receiver.arrivals if t >= burst]
    receiver.shutdown()
    elapsed = max(finished) - burst if finished else float("nan")
    figures = {
        "pages": pages,
        "page_kb_median": round(median([len(PAGES[pages](f, 0)) for f in range(feeds)]) / 1024, 1),
        "feeds": feeds,
        "entries": feeds * per_feed,
        "entry_batch": settings.service.entry_batch,
        "processed": len(finished),
        "documents": stats.get("documents", 0),
        "copies": stats.get("copies", 0),
        "seconds": round(elapsed, 1),
        "entries_per_second": round(len(finished) / elapsed, 1) if finished else 0,
        "latency_s_median": round(median(latencies), 1),
        "latency_s_p95": round(percentile(latencies, 0.95), 1),
        "webhooks": len(webhook),
        "publication_to_webhook_s_median": round(median(webhook), 1),
        "publication_to_webhook_s_p95": round(percentile(webhook, 0.95), 1),
        "trafilatura_pages_per_second": round(baseline, 1),
        "trafilatura_pages_per_second_before_and_after": [round(before[0], 1), round(after[0], 1)],
        "worker_cpu_ms_per_entry": round(worker_cpu * 1000 / max(1, len(finished)), 2),
        # As Redis counted them (scripts' own commands included), the sampler's LLENs not.
        "redis_commands_per_entry": round(
            (sum(commands.values()) - commands["llen"]) / max(1, len(finished)), 1
        ),
        "redis_commands_per_entry_by_name": {
            name: round(n / max(1, len(finished)), 2)
            for name, n in commands.most_common()
            if n > 0 and name != "llen"
        },
        # Redis's own CPU (the sampler's LLENs included), and where its command time went.
        "redis_cpu_ms_per_entry": round(redis_cpu * 1000 / max(1, len(finished)), 2),
        "redis_usec_per_entry_by_name": {
            name: round(n / max(1, len(finished)), 1)
            for name, n in usec.most_common(12)
            if n > 0 and name != "llen"
        },
        # The worker CPU above by process (user and system), children together.
        "worker_cpu_ms_per_entry_by_process": cpu_split(split_before, split_after, len(finished)),
        "trafilatura_cpu_ms_per_page": round(baseline_cpu * 1000, 2),
        "trafilatura_cpu_ms_per_page_before_and_after": [
            round(before[1] * 1000, 2),
            round(after[1] * 1000, 2),
        ],
        "worker_pss_mb_idle": round(idle_pss, 1),
        "worker_pss_mb_max": round(max(s["pss_mb"] for s in samples), 1),
        "redis_used_memory_mb": round(redis_mb, 1),
        "redis_used_memory_mb_after_second_run": round(redis_mb_again, 1),
        "redis_keys_mb_by_kind": redis_kinds,
        "redis_keys_mb_by_kind_after_second_run": redis_kinds_again,
        "pss_mb_max_by_process": {k: round(v, 1) for k, v in sorted(by_process.items())},
        "queue_max": max(s["queue"] + s["io_queue"] for s in samples),
        "queue_depth": [
            {
                "t": round(s["t"] - burst, 1),
                "articles": s["queue"],
                "polls_and_deliveries": s["io_queue"],
                "pss_mb": round(s["pss_mb"], 1),
            }
            for s in samples[::5]
        ],
    }
    figures["ratio_to_trafilatura"] = round(figures["entries_per_second"] / baseline, 3)
    # The same comparison by CPU, which a busy machine disturbs far less than wall time.
    figures["cpu_ratio_to_trafilatura"] = round(
        figures["trafilatura_cpu_ms_per_page"] / figures["worker_cpu_ms_per_entry"], 3
    )
    print(
        f"load ({pages} pages): {figures['processed']:,} of {figures['entries']:,} entries in "
        f"{figures['seconds']} s ({figures['entries_per_second']} entries/s, "
        f"{figures['ratio_to_trafilatura']}× trafilatura alone at {baseline:.1f} pages/s "
        f"(before {before[0]:.1f}, after {after[0]:.1f}); by "
        f"CPU {figures['worker_cpu_ms_per_entry']} ms per entry against "
        f"{figures['trafilatura_cpu_ms_per_page']} ms per page, "
        f"{figures['cpu_ratio_to_trafilatura']}×); {figures['redis_commands_per_entry']} Redis "
        f"commands per entry; "
        f"latency median {figures['latency_s_median']} s, p95 {figures['latency_s_p95']} s; "
        f"{figures['webhooks']} webhooks, publication to webhook median "
        f"{figures['publication_to_webhook_s_median']} s, p95 "
        f"{figures['publication_to_webhook_s_p95']} s; "
        f"worker PSS {figures['worker_pss_mb_idle']} MB idle, {figures['worker_pss_mb_max']} "
        f"MB max; Redis {figures['redis_used_memory_mb']} MB, "
        f"{figures['redis_used_memory_mb_after_second_run']} MB after the same run again; queue max {figures['queue_max']}"
    )
    print("  PSS max by process (MB):", figures["pss_mb_max_by_process"])
    print("  Worker CPU ms per entry by process:", figures["worker_cpu_ms_per_entry_by_process"])
    print("  Redis commands per entry:", figures["redis_commands_per_entry_by_name"])
    print(
        f"  Redis CPU {figures['redis_cpu_ms_per_entry']} ms per entry; µs per entry:",
        figures["redis_usec_per_entry_by_name"],
    )
    print("  Redis keys by kind (keys, MB):", figures["redis_keys_mb_by_kind"])
    print("  ... after the same run again:", figures["redis_keys_mb_by_kind_after_second_run"])
    write_result("load" if pages == "short" else f"load-{pages}", figures)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feeds", type=int, nargs="?", default=500)
    parser.add_argument("per_feed", type=int, nargs="?", default=20)
    parser.add_argument(
        "--pages",
        choices=sorted(PAGES),
        default="short",
        help="short: ~150-word pages (bench/results/load.json); news: pages shaped like real "
        "news pages (bench/results/load-news.json)",
    )
    parser.add_argument(
        "--entry-batch", type=int, help="entries per article task (default: the service's own)"
    )
    arguments = parser.parse_args()
    main(
        arguments.feeds,
        arguments.per_feed,
        pages=arguments.pages,
        entry_batch=arguments.entry_batch,
    )

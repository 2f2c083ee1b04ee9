"""One entry in process: CPU and Redis commands of `process_entry` on real pages.

The 181 pages of the standard extraction benchmark (../shared/data) are served on
loopback; each is one feed entry (with a publication date, as feeds give one), run through the `newswatch.process_entry` task body in
this process (fetch, extraction, boilerplate lines, relevance, duplicates, corpus,
signals, events, counts) against a real Redis, with a topic every page is relevant to, so
that every stage runs. The baseline, in the same loop on the same page: plain
`trafilatura.extract`. Measured: CPU time of this process per entry (median and total,
against the baseline's); Redis commands and round trips per entry as the client sends
them (a pipeline is one round trip, a script call one command), by command; and the
commands Redis executed (INFO commandstats, which also counts those run inside scripts).

The entries are dated 2024, past the topic's `max_age`: they move figures and teach names
without alerting, as a feed's first poll does. The same pages are then run again as fresh
entries (published an hour before the run, against a new Redis and corpus), which alert:
their untracked names are read and counted too (`alerting` in the results).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import trafilatura
import yaml

from bench.common import SHARED_DATA, FarmHandler, median, start_farm, write_result
from bench.extraction import benchmark_pages
from worker.articles.extract import decode_html
from worker.store.embedded import start_redis

# Words nearly every page of the set uses: the topic takes every page, so every stage runs.
EVERYWHERE = [
    "that", "this", "have", "said", "their", "which", "also", "there", "been", "more",
    "dass", "nicht", "pour", "dans", "para", "como", "но", "что",
]  # fmt: skip


def farm_handler(pages: list[bytes]) -> type[FarmHandler]:
    class Handler(FarmHandler):
        def do_GET(self) -> None:
            number = int(self.path.strip("/").split("/")[-1])
            self.send(200, pages[number], {"Content-Type": "text/html; charset=utf-8"})

    return Handler


class ClientCounter:
    """Counts what redis-py sends: commands by name, and round trips (one send each)."""

    def __init__(self) -> None:
        self.commands: Counter[str] = Counter()
        self.round_trips = 0
        self.counting = False
        connection = redis.connection.Connection
        send, pack_commands = connection.send_packed_command, connection.pack_commands
        self.originals = {
            name: getattr(connection, name)
            for name in ("send_packed_command", "pack_command", "pack_commands", "send_command")
        }
        counter = self

        def send_packed_command(self: Any, command: Any, check_health: bool = True) -> Any:
            if counter.counting:
                counter.round_trips += 1
            return send(self, command, check_health)

        def pack_command(self: Any, *args: Any) -> Any:
            if counter.counting:
                counter.commands[_name(args)] += 1
            return self._command_packer.pack(*args)

        def counted_pack_commands(self: Any, commands: Any) -> Any:
            if counter.counting:
                for command in commands:
                    counter.commands[_name(command)] += 1
            return pack_commands(self, commands)

        connection.send_packed_command = send_packed_command  # type: ignore[method-assign]
        connection.pack_command = pack_command  # type: ignore[method-assign]
        connection.pack_commands = counted_pack_commands  # type: ignore[method-assign]
        original_send_command = connection.send_command

        def send_command(self: Any, *args: Any, **kwargs: Any) -> Any:
            if counter.counting:
                counter.commands[_name(args)] += 1
            return original_send_command(self, *args, **kwargs)

        connection.send_command = send_command  # type: ignore[method-assign]

    def detach(self) -> None:
        """Put redis-py's own methods back."""
        for name, method in self.originals.items():
            setattr(redis.connection.Connection, name, method)


def _name(args: Any) -> str:
    name = args[0]
    return (name.decode() if isinstance(name, bytes) else str(name)).lower()


def _commands(client: redis.Redis) -> Counter[str]:
    stats = client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()})


def _config(folder: Path) -> Path:
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    topic = {
        "id": "everything",
        "title": "Everything",
        "relevance": {"all": [{"any": EVERYWHERE}]},
        "entities": {"united-states": ["United States", "US", "U.S.", "America"]},
        "figures": {"people": {"label": "people", "about": "united-states", "units": ["people"]}},
    }
    (config / "topics" / "everything.yaml").write_text(yaml.safe_dump(topic))
    (config / "newswatch.yaml").write_text(
        yaml.safe_dump({"data_dir": str(folder / "data"), "allow_private_networks": True})
    )
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    (config / "alerts.yaml").write_text(yaml.safe_dump({"channels": {}, "routes": []}))
    return config


def main() -> dict[str, Any]:
    if not (SHARED_DATA / "article-extraction-benchmark").exists():
        print("../shared/data/article-extraction-benchmark is absent: skipped")
        return {}
    pages = benchmark_pages()
    port, farm = start_farm(farm_handler, [html for _, html, _ in pages])
    try:
        figures = measure(pages, port, published=datetime(2024, 11, 13, 10, 0, tzinfo=UTC))
        alerting = measure(pages, port, published=datetime.now(UTC) - timedelta(hours=1))
    finally:
        farm.kill()
    figures["alerting"] = alerting
    for label, result in (("dated 2024 (no alerts)", figures), ("fresh (alerting)", alerting)):
        print(
            f"process_entry, {label}: {result['cpu_ms_per_entry_median']} ms CPU per entry "
            f"(median) against trafilatura.extract "
            f"{result['trafilatura_cpu_ms_per_page_median']} ms: {result['cpu_ratio_median']}× "
            f"(total {result['cpu_ratio_total']}×); {result['redis_commands_per_entry']} Redis "
            f"commands per entry in {result['redis_round_trips_per_entry']} round trips "
            f"({result['redis_commands_executed_per_entry']} executed, scripts' included); "
            f"outcomes {result['outcomes']}"
        )
        print("  commands per entry:", result["redis_commands_by_name"])
    write_result("entries", figures)
    return figures


def measure(pages: list[tuple[str, bytes, str]], port: int, published: datetime) -> dict[str, Any]:
    """Every page once as an entry published at `published`, against a new Redis and data
    folder; the baseline on the same page in the same loop."""
    folder = Path(tempfile.mkdtemp(prefix="newswatch-entries-"))
    server = start_redis(folder / "redis", append_only=False)
    from worker import pipeline, tasks
    from worker.config import load_config
    from worker.feeds import Entry

    sent = ClientCounter()
    try:
        rt = pipeline.Runtime(load_config(_config(folder)), server.url)
        tasks.use(rt)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        # Warm-up outside the measurement, as a worker that has run a while: the topic's
        # first load, and what a prefork worker preloads before forking (trafilatura, the
        # language model, the word data and lemma dictionaries of the set's languages, and
        # a page read through the topic's steps in each of them, which builds their
        # patterns).
        trafilatura.extract(decode_html(pages[0][1]))
        rt.store.figures("everything")
        languages = set()
        for url, html, _ in pages:
            document = pipeline.page_to_document(rt, decode_html(html), url, "w", learn=False)
            if document is not None and document.language:
                languages.add(document.language)
        pipeline.preload(sorted(languages), list(rt.config.topics.values()))
        ours_cpu, plain_cpu = [], []
        commands: Counter[str] = Counter()
        for number, (url, html, _) in enumerate(pages):
            text = decode_html(html)
            started = time.process_time()
            trafilatura.extract(text, url=url)
            plain_cpu.append(time.process_time() - started)
            entry = Entry(
                id=f"entry-{number}",
                link=f"http://127.0.0.1:{port}/page/{number}",
                title="",
                summary="",
                content="",
                published=published,
            )
            before = _commands(client)
            sent.counting = True
            started = time.process_time()
            tasks.process_entry(None, entry.to_json())
            ours_cpu.append(time.process_time() - started)
            sent.counting = False
            commands += _commands(client) - before
        commands["info"] -= len(pages)  # our own INFO before each entry
        stats = rt.store.stats()
    finally:
        sent.detach()
        server.stop()
    executed = sum(commands.values()) / len(pages)
    per_entry = sum(sent.commands.values()) / len(pages)
    return {
        "pages": len(pages),
        "outcomes": stats,
        "cpu_ms_per_entry_median": round(median(ours_cpu) * 1000, 2),
        "trafilatura_cpu_ms_per_page_median": round(median(plain_cpu) * 1000, 2),
        "cpu_ratio_median": round(median(ours_cpu) / median(plain_cpu), 2),
        "cpu_ratio_total": round(sum(ours_cpu) / sum(plain_cpu), 2),
        "redis_commands_per_entry": round(per_entry, 1),
        "redis_round_trips_per_entry": round(sent.round_trips / len(pages), 1),
        "redis_commands_by_name": {
            name: round(count / len(pages), 2) for name, count in sent.commands.most_common()
        },
        "redis_commands_executed_per_entry": round(executed, 1),
    }


if __name__ == "__main__":
    main(*sys.argv[1:])

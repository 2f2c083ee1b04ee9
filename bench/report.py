"""Renders bench/results/*.json into the README's benchmark table."""

from __future__ import annotations

import json
import re
from typing import Any

from bench.common import RESULTS, ROOT

START, END = "<!-- bench-table -->", "<!-- /bench-table -->"
FIGURES_START, FIGURES_END = "<!-- figures-table -->", "<!-- /figures-table -->"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def rows() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if extraction := _load("extraction"):
        for name, label in (
            ("standard_181", "181 pages of the standard benchmark"),
            ("built_multilingual", "pages built in 6 languages"),
        ):
            if name in extraction:
                ours, plain = extraction[name]["newswatch"], extraction[name]["plain_trafilatura"]
                found.append(
                    (
                        f"Extraction, {label}",
                        f"F1 {ours['f1']} (P {ours['precision']}, R {ours['recall']}), "
                        f"{ours['median_ms_per_page']} ms/page, {ours['exact_cuts']} exact "
                        f"; plain trafilatura F1 {plain['f1']}, "
                        f"{plain['median_ms_per_page']} ms/page, {plain['exact_cuts']} exact",
                    )
                )
    if (feeds := _load("feeds")) and "parse" in feeds:
        parse = feeds["parse"]
        found.append(
            (
                f"Feed parsing, {parse['feeds']} real feeds",
                f"parse_feed {parse['newswatch']['mean_ms']} ms mean per feed "
                f"(fast path for {parse['parser_used'].get('fastfeedparser', 0)}); "
                f"feedparser {parse['feedparser']['mean_ms']} ms, fastfeedparser "
                f"{parse['fastfeedparser']['mean_ms']} ms",
            )
        )
    if feeds:
        for case in ("all_304", "all_changed"):
            data = feeds[case]
            found.append(
                (
                    f"Feed polling, {data['feeds']:,} loopback feeds, {case}",
                    f"{data['feeds_per_second']} feeds/s, {data['cpu_ms_per_poll']} ms "
                    f"CPU per poll ({feeds['threads']} threads, {feeds['cpus']} cores)",
                )
            )
    if dedupe := _load("dedupe"):
        chosen = next(
            r
            for r in dedupe["evaluation"]["sweep"]
            if r["threshold"] == dedupe["default_threshold"]
        )
        found.append(
            (
                f"Duplicates at threshold {dedupe['default_threshold']} "
                f"({dedupe['evaluation']['positive_pairs']} copies, "
                f"{dedupe['evaluation']['negative_pairs']} distinct pairs)",
                f"precision {chosen['precision']}, recall {chosen['recall']}",
            )
        )
        if hot := dedupe.get("hot_bucket"):
            found.append(
                (
                    f"LSH hot bucket: {hot['documents_in_hot_bucket']:,} documents sharing a band",
                    f"query {hot['query_ms_median']} ms median ({hot['query_ratio_to_ordinary']}× "
                    f"an ordinary query), {hot['query_ms_p99']} ms p99; insert "
                    f"{hot['insert_ms_first']} ms first, {hot['insert_ms_last']} ms last; near "
                    f"copies found {hot['near_copies_found']}",
                )
            )
        for row in dedupe["index"]:
            found.append(
                (
                    f"LSH index, {row['documents']:,} documents",
                    f"query {row['query_ms_median']} ms median, {row['query_ms_p99']} ms "
                    f"p99; {row['redis_bytes_per_document']:,} bytes of Redis per document",
                )
            )
    if signals := _load("signals"):
        found.append(
            (
                "Signals (figures, entities, names)",
                f"{signals['median_ms_per_document']} ms per document (median), "
                f"{signals['documents_per_second']} documents/s; the seed "
                f"{signals['seed_ms']} ms",
            )
        )
    if emerging := _load("emerging"):
        ours, raw = emerging["newswatch"], emerging["raw_capitalised"]
        found.append(
            (
                f"Emerging names, {emerging['articles']} labelled articles in "
                f"{len(emerging['languages'])} languages",
                f"{ours['real']} of {ours['suggested']} suggestions real (precision "
                f"{ours['precision']}), "
                + (
                    f"noise: {', '.join(ours['listed_noise'])}"
                    if ours["listed_noise"]
                    else "none of the listed noise"
                )
                + "; raw capitalised sequences "
                f"{raw['real']} of {raw['suggested']} (precision {raw['precision']})",
            )
        )
    if figures := _load("figures"):
        ours, naive = figures["newswatch"], figures["naive"]
        found.append(
            (
                f"Figure reader, development set ({figures['items']} passages, "
                f"{len(figures['languages'])} languages)",
                f"precision {ours['precision']}, recall {ours['recall']}; naive baseline "
                f"precision {naive['precision']}, recall {naive['recall']} (by language below)",
            )
        )
    if delivery := _load("delivery"):
        found.append(
            (
                "Webhook delivery, event → verified receipt",
                f"{delivery['latency_ms_median']} ms median, {delivery['latency_ms_p95']} "
                f"ms p95; burst {delivery['burst_events_per_second']} events/s",
            )
        )
    if client := _load("redis_client"):
        ms = client["cpu_ms_per_round_median"]
        found.append(
            (
                "Redis client CPU, store calls (alert log, histograms, seen entries)",
                f"{ms['hiredis']} ms per round with hiredis, {ms['redis_py']} ms with "
                f"redis-py's parser ({client['hiredis_ratio']}×)",
            )
        )
    if load := _load("load"):
        if "worker_pss_mb_max" in load:
            memory = (
                f"worker PSS {load['worker_pss_mb_idle']} MB idle, "
                f"{load['worker_pss_mb_max']} MB max; Redis {load['redis_used_memory_mb']} MB, "
                f"{load['redis_used_memory_mb_after_second_run']} MB after the same run again"
            )
            # Started in this order by launcher.start_workers: the prefork worker (its
            # main process, then its children), then the poller.
            peaks = list(load.get("pss_mb_max_by_process", {}).values())
            if len(peaks) == 4:
                memory = memory.replace(
                    " MB max;",
                    f" MB max (peaks: prefork main {peaks[0]}, children {peaks[1]} and "
                    f"{peaks[2]}, poller {peaks[3]} MB);",
                    1,
                )
            speed = (
                f"{load['entries_per_second']} entries/s, {load['ratio_to_trafilatura']}× "
                f"trafilatura alone ({load['trafilatura_pages_per_second']} pages/s)"
            )
            if "cpu_ratio_to_trafilatura" in load:
                speed += (
                    f"; by CPU {load['worker_cpu_ms_per_entry']} ms per entry, "
                    f"{load['cpu_ratio_to_trafilatura']}× trafilatura's "
                    f"{load['trafilatura_cpu_ms_per_page']} ms per page"
                )
            if "redis_cpu_ms_per_entry" in load:
                speed += f"; Redis CPU {load['redis_cpu_ms_per_entry']} ms per entry"
        else:
            memory = f"worker RSS {load['worker_rss_mb_max']} MB max"
            speed = f"{load['entries_per_second']} entries/s"
        found.append(
            (
                f"Load: {load['entries']:,} entries across {load['feeds']} feeds",
                f"{speed}; end-to-end {load['latency_s_median']} s median, "
                f"{load['latency_s_p95']} s p95"
                + (
                    f"; publication to webhook {load['publication_to_webhook_s_median']} s "
                    f"median, {load['publication_to_webhook_s_p95']} s p95 "
                    f"({load['webhooks']} alerts)"
                    if "webhooks" in load
                    else ""
                )
                + f"; {memory}; queue depth max {load['queue_max']}",
            )
        )
    if memory_run := _load("memory"):
        peaks = memory_run["pss_mb_max_by_process"]
        children = " and ".join(
            str(mb) for name, mb in peaks.items() if name.startswith("worker child")
        )
        found.append(
            (
                f"Worker memory (PSS), `newswatch run`'s workers, {memory_run['entries']:,} "
                f"entries across {memory_run['feeds']} feeds",
                f"{memory_run['worker_pss_mb_idle']} MB idle, {memory_run['worker_pss_mb_max']} "
                f"MB max, {memory_run['worker_pss_mb_settled']} MB after the burst (peaks: "
                f"prefork main {peaks.get('worker')}, children {children}, poller "
                f"{peaks.get('poller')} MB); {memory_run['worker_cpu_ms_per_entry']} ms of "
                "worker CPU per entry",
            )
        )
    if news := _load("load-news"):
        found.append(
            (
                f"Load on news-shaped pages ({news['page_kb_median']} KB): {news['entries']:,} "
                f"entries across {news['feeds']} feeds",
                f"{news['entries_per_second']} entries/s, {news['ratio_to_trafilatura']}× "
                f"trafilatura alone ({news['trafilatura_pages_per_second']} pages/s); by CPU "
                f"{news['worker_cpu_ms_per_entry']} ms per entry, "
                f"{news['cpu_ratio_to_trafilatura']}× trafilatura's "
                f"{news['trafilatura_cpu_ms_per_page']} ms per page; end-to-end "
                f"{news['latency_s_median']} s median, {news['latency_s_p95']} s p95; "
                f"publication to webhook {news['publication_to_webhook_s_p95']} s p95; "
                f"worker PSS {news['worker_pss_mb_max']} MB max",
            )
        )
    if growth := _load("growth"):
        last = growth["rotations"][-1]
        ours, before = last["after"], last["before"]
        found.append(
            (
                f"Redis growth, {growth['feeds']} feeds rotating {growth['new_per_feed_per_day']} "
                f"new entries a day for {growth['days']} days, polled in process",
                f"seen sets {ours['seen_members']:,} ids, {ours['seen_bytes'] // 1024:,} KiB "
                f"(kept every id before: {before['seen_members']:,} ids, "
                f"{before['seen_bytes'] // 1024:,} KiB); line counters "
                f"{ours['lines_bytes'] // 1024:,} KiB, {ours['count_lines_us_mean']} µs per "
                f"document (before: {before['lines_bytes'] // 1024:,} KiB, "
                f"{before['count_lines_us_mean']} µs)",
            )
        )
    if entries := _load("entries"):
        for result, label in (
            (entries, "dated 2024, no alerts"),
            (entries.get("alerting"), "fresh, alerting"),
        ):
            if not result:
                continue
            found.append(
                (
                    f"One entry in process, {entries['pages']} standard pages ({label})",
                    f"{result['cpu_ms_per_entry_median']} ms CPU per entry, "
                    f"{result['cpu_ratio_median']}× trafilatura.extract's "
                    f"{result['trafilatura_cpu_ms_per_page_median']} ms (median; total "
                    f"{result['cpu_ratio_total']}×); {result['redis_commands_per_entry']} Redis "
                    f"commands in {result['redis_round_trips_per_entry']} round trips per entry",
                )
            )
    if polls := _load("polls"):
        found.append(
            (
                f"Unchanged feeds through the real poller, {polls['feeds']} feeds",
                f"{polls['poller_feeds_per_second']} feeds/s, {polls['ratio']}× an in-process "
                f"httpx async loop ({polls['async_loop_feeds_per_second']} feeds/s); "
                f"{polls['new_connections_per_repoll']} new connections per repoll; "
                f"{polls['redis_commands_per_poll']} Redis commands per poll, Celery included",
            )
        )
    if startup := _load("startup"):
        commands = startup["commands"]
        found.append(
            (
                "Start-up, wall time against a running Redis",
                "; ".join(f"`{name}` {row['wall_s_median']} s" for name, row in commands.items())
                + f" (median of {startup['repeats']}; `python -c pass` "
                f"{startup['bare_python_s_median']} s)",
            )
        )
    if web := _load("web"):
        pages = web["pages"]
        browser = web.get("browser") or {}
        found.append(
            (
                f"Web view, a topic of {web['documents']:,} documents and "
                f"{web['figure_readings']:,} figure readings",
                f"slowest page {web['slowest_page_ms_median']} ms median (topic charts "
                f"{pages['topic (figure charts)']['ms_median']} ms, search "
                f"{pages['corpus search']['ms_median']} ms, /metrics "
                f"{pages['metrics']['ms_median']} ms)"
                + (
                    f"; in Chromium, topic page loaded in "
                    f"{browser['topic (figure charts)']['ms_median']} ms"
                    if "topic (figure charts)" in browser
                    else ""
                )
                + f"; search index built in {web['index_build_s']} s, 10 new documents "
                f"read in {web['index_refresh_10_new_ms']} ms",
            )
        )
    if faults := _load("faults"):
        found.append(
            (
                f"Fault suite ({len(faults['scenarios'])} scenarios, Redis outages of "
                f"{faults['outage_seconds']} s)",
                f"{faults['pytest']}; every scenario: one document per entry, one "
                f"delivery per event (bench/results/faults.json)",
            )
        )
    return found


def figures_rows() -> list[str]:
    """The figure reader's precision and recall per language and per figure."""
    figures = _load("figures")
    if not figures:
        return []
    lines = [
        "| language or figure | passages | precision | recall | naive precision | naive recall |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in [
        ("all", {**figures, "items": figures["items"]}),
        *figures["languages"].items(),
    ]:
        ours, naive = row["newswatch"], row["naive"]
        lines.append(
            f"| {name} | {row['items']} | {ours['precision']} | {ours['recall']} "
            f"| {naive['precision'] if naive['precision'] is not None else '–'} "
            f"| {naive['recall']} |"
        )
    for name, row in figures["figures"].items():
        ours, naive = row["newswatch"], row["naive"]
        lines.append(
            f"| `{name}` | | {ours['precision']} | {ours['recall']} "
            f"| {naive['precision'] if naive['precision'] is not None else '–'} "
            f"| {naive['recall']} |"
        )
    return lines


def _replace(text: str, start: str, end: str, body: str) -> str:
    return re.sub(
        re.escape(start) + ".*?" + re.escape(end), f"{start}\n{body}\n{end}", text, flags=re.DOTALL
    )


def update_readme() -> None:
    readme = ROOT / "README.md"
    table = "\n".join(
        [
            "| benchmark | figure |",
            "|---|---|",
            *(f"| {name} | {figure} |" for name, figure in rows()),
        ]
    )
    text = _replace(readme.read_text(), START, END, table)
    if lines := figures_rows():
        text = _replace(text, FIGURES_START, FIGURES_END, "\n".join(lines))
    readme.write_text(text)
    print(table)


if __name__ == "__main__":
    update_readme()

"""The `newswatch` command (SPEC §6). Errors are one clear line and a non-zero exit."""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml

from worker.config import Config, check_config, load_config
from worker.errors import ConfigError, NewswatchError

F = TypeVar("F", bound=Callable[..., Any])

cli = typer.Typer(
    help="newswatch keeps a topic's news corpus current and alerts when the story moves.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
feeds_cli = typer.Typer(help="List, add and import feeds.", no_args_is_help=True)
cli.add_typer(feeds_cli, name="feeds")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config folder (default: config/ or NEWSWATCH_CONFIG_DIR)."),
]


def _config(directory: Path | None) -> Config:
    if directory is not None:
        os.environ["NEWSWATCH_CONFIG_DIR"] = str(directory.resolve())
    return load_config(directory)


def _fail(message: str) -> None:
    typer.secho(f"newswatch: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@cli.command("check-config")
def check_config_command(config: ConfigOption = None) -> None:
    """Validate the config folder; print every problem as `file: key: what is wrong`."""
    directory = config or Path(os.environ.get("NEWSWATCH_CONFIG_DIR", "config"))
    problems = check_config(directory)
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        typer.secho(f"{len(problems)} problem(s) in {directory}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{directory}: configuration is valid")


@cli.command()
def run(
    config: ConfigOption = None,
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
) -> None:
    """Run a worker and beat (with an embedded Redis when no Redis URL is configured)."""
    from worker import launcher

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        where = "embedded Redis" if services.embedded else "Redis"
        typer.echo(
            f"newswatch: {where} at {services.redis_url}; starting worker and beat (Ctrl-C stops)"
        )
        launcher.start_workers(services, settings, concurrency=concurrency)
        launcher.start_beat(services, settings)
        try:
            while all(child.poll() is None for child in services.children):
                time.sleep(1)
        except KeyboardInterrupt:
            typer.echo("newswatch: stopping (warm shutdown)")
        finally:
            launcher.stop_children(services)


@cli.command()
def poll(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once.")] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Poll every feed once, process all that follows through the task queue, summarise."""
    if not once:
        _fail("only `poll --once` exists; `newswatch run` polls on a schedule")
    _logging(verbose)
    from worker import launcher

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        os.environ["NEWSWATCH_REDIS_URL"] = services.redis_url
        summary = poll_once(settings, services, timeout, echo=typer.echo)
    _print_summary(summary)
    if summary.get("pending", 0):
        raise typer.Exit(2)


def poll_once(
    settings: Config, services: Any, timeout: float, echo: Callable[[str], Any] = print
) -> dict[str, int]:
    """Enqueue a poll of every feed and wait until everything that follows is done."""
    from worker import launcher, tasks

    if not launcher.wait_for_worker(timeout=1.5):
        echo("newswatch: no workers are running; starting them for this run")
        launcher.start_workers(services, settings, quiet=True)
        if not launcher.wait_for_worker(timeout=60):
            raise NewswatchError("the worker did not start within 60 s")
    rt = tasks.runtime()
    run_id = uuid.uuid4().hex[:12]
    from worker.pipeline import feed_id, sync_feeds

    sync_feeds(rt)
    for feed in settings.feeds:
        tasks.send(tasks.poll_feed, feed_id(feed.url), run=run_id)
    deadline = time.monotonic() + timeout
    last = -1
    while (pending := rt.store.run_pending(run_id)) > 0 and time.monotonic() < deadline:
        if pending != last:
            echo(f"  … {pending} task(s) in progress")
            last = pending
        time.sleep(0.2)
    stats = rt.store.stats(run_id)
    stats["pending"] = max(0, rt.store.run_pending(run_id))
    stats["feeds"] = len(settings.feeds)
    return stats


def _print_summary(stats: dict[str, int]) -> None:
    polls = {k.removeprefix("polls_"): v for k, v in stats.items() if k.startswith("polls_")}
    typer.echo(
        f"polled {stats.get('feeds', 0)} feed(s): "
        + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(polls.items())) or "none")
    )
    typer.echo(
        f"entries: {stats.get('entries', 0)} new; documents: {stats.get('documents', 0)} "
        f"written, {stats.get('revisions', 0)} revised, {stats.get('copies', 0)} "
        f"duplicates, {stats.get('off_topic', 0)} off topic, "
        f"{stats.get('empty', 0)} without text"
    )
    if stats.get("pending"):
        typer.secho(
            f"{stats['pending']} task(s) still pending at the timeout", fg=typer.colors.YELLOW
        )


@cli.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files (HTML or text) or URLs.")],
    config: ConfigOption = None,
    topic: Annotated[str | None, typer.Option(help="Only this topic.")] = None,
    source: Annotated[str | None, typer.Option(help="Outlet name to record.")] = None,
) -> None:
    """Run given articles (HTML or text files, or URLs) through the pipeline."""
    from worker import launcher, pipeline
    from worker.alerts.events import summary_line
    from worker.articles import decode_html, extract_article, make_document
    from worker.feeds.fetch import fetch

    settings = _config(config)
    topics = [topic] if topic else list(settings.topics)
    for topic_id in topics:
        if topic_id not in settings.topics:
            _fail(f"no topic named {topic_id!r}")
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        for item in paths:
            if item.startswith(("http://", "https://")):
                page = fetch(rt.client, item, rt.policy, accept=pipeline.PAGE_ACCEPT)
                html, url = decode_html(page.body, page.content_type), page.final_url
            else:
                path = Path(item)
                if not path.is_file():
                    _fail(f"{item}: no such file")
                html, url = decode_html(path.read_bytes()), path.resolve().as_uri()
            if "<" in html[:2000]:
                article = extract_article(html, url)
                document = make_document(article, source=source or pipeline.source_name(url))
            else:
                document = make_document(
                    None,
                    source=source or "file",
                    fallback_html=html,
                    url=url,
                    fallback_title=Path(item).stem,
                )
            if document is None:
                typer.echo(f"{item}: no article text found")
                continue
            for topic_id in topics:
                outcome = pipeline.ingest_document(rt, settings.topics[topic_id], document, None)
                typer.echo(
                    f"{item}: {topic_id}: {outcome.status}"
                    + (f" → {outcome.file}" if outcome.file else "")
                )
                for event in outcome.events:
                    typer.echo(f"  alert {event['id']}: {summary_line(event)}")
                    for channel in pipeline.route_event(rt, event):
                        result = pipeline.deliver(rt, event["id"], channel)
                        typer.echo(f"    {channel}: {result.state} {result.detail}".rstrip())


@cli.command()
def figures(
    topic: Annotated[str | None, typer.Argument()] = None, config: ConfigOption = None
) -> None:
    """Each figure's current value and its history with dates, quotes and sources."""
    from worker import launcher, pipeline

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        for topic_id, topic_settings in settings.topics.items():
            if topic and topic_id != topic:
                continue
            typer.secho(f"{topic_id}: {topic_settings.title}", bold=True)
            current = rt.store.figures(topic_id)
            for figure_id, figure in topic_settings.figures.items():
                value = current.get(figure_id)
                if value is None:
                    typer.echo(f"  {figure.label}: no observation yet")
                    continue
                typer.echo(
                    f"  {figure.label}: {value['qualifier']} {value['value']:,.0f} "
                    f"({len(value['sources'])} source(s): {', '.join(value['sources'])})"
                )
                for step in rt.store.figure_history(topic_id, figure_id):
                    document = step["document"]
                    typer.echo(
                        f"    {step['observed_at']}  {step['qualifier']} "
                        f"{step['value']:,.0f}  {document.get('source')}  "
                        f"{document.get('file') or ''}"
                    )
                    typer.echo(f"      “{step['quote'][:160]}”")


@cli.command()
def alerts(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many recent events.")] = 20,
    resend: Annotated[str | None, typer.Option(help="Re-send this event id.")] = None,
) -> None:
    """The alert log: each event with its delivery state per channel."""
    from worker import launcher, pipeline
    from worker.alerts.events import summary_line

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        if resend:
            event = rt.store.event(resend)
            if event is None:
                _fail(f"no event {resend}")
                return
            for channel in pipeline.route_event(rt, event):
                rt.store.update_delivery(resend, channel, state="pending", attempts=0)
                result = pipeline.deliver(rt, resend, channel)
                typer.echo(f"{resend} → {channel}: {result.state} {result.detail}".rstrip())
            return
        for event in rt.store.recent_events(limit):
            typer.echo(f"{event['detected_at']}  {event['id']}  {summary_line(event)}")
            for channel, state in sorted(rt.store.deliveries(event["id"]).items()):
                error = f" — {state['last_error']}" if state.get("last_error") else ""
                typer.echo(
                    f"    {channel}: {state.get('state')} "
                    f"(attempts {state.get('attempts', 0)}){error}"
                )


@cli.command()
def reindex(config: ConfigOption = None) -> None:
    """Rebuild every Redis index from the corpus folders and manifests."""
    from worker import launcher, pipeline

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        rt.store.flush_indexes()
        for topic in settings.topics.values():
            with rt.store.topic_lock(topic.id):
                pipeline.bootstrap_topic(rt, topic)
            floor = pipeline._sequence_floor(rt, topic)
            rt.store.r.set(f"nw:seq:{topic.id}", floor)
            typer.echo(f"{topic.id}: reindexed; next document number {floor + 1:03d}")


@feeds_cli.command("list")
def feeds_list(config: ConfigOption = None) -> None:
    """Per feed: last success, next poll, consecutive errors, last error, entries seen."""
    from worker import launcher, pipeline

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        for feed in settings.feeds:
            state = rt.store.feed_state(pipeline.feed_id(feed.url))
            typer.echo(f"{feed.name or feed.url}")
            if state is None:
                typer.echo("    never polled")
                continue
            typer.echo(f"    url: {state.url}{'  (retired)' if state.retired else ''}")
            typer.echo(
                f"    last success: {_when(state.last_success)}; next poll: "
                f"{_when(state.next_poll)}; entries seen: {state.entries_seen}"
            )
            if state.consecutive_errors:
                typer.echo(
                    f"    {state.consecutive_errors} consecutive error(s); last: {state.last_error}"
                )


def _when(stamp: float | None) -> str:
    if stamp is None or stamp == float("inf"):
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _append_feeds(directory: Path, new: list[dict[str, Any]]) -> int:
    path = directory / "feeds.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = data or {}
    feeds = data.setdefault("feeds", [])
    known = {f.get("url") for f in feeds}
    added = [f for f in new if f["url"] not in known]
    feeds.extend(added)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return len(added)


@feeds_cli.command("add")
def feeds_add(
    url: str,
    topic: Annotated[list[str], typer.Option("--topic", help="Topic id.")],
    name: Annotated[str | None, typer.Option()] = None,
    config: ConfigOption = None,
) -> None:
    """Add a feed to feeds.yaml."""
    settings = _config(config)
    for topic_id in topic:
        if topic_id not in settings.topics:
            _fail(f"no topic named {topic_id!r}")
    entry: dict[str, Any] = {"url": url, "topics": list(topic)}
    if name:
        entry["name"] = name
    added = _append_feeds(settings.directory, [entry])
    problems = check_config(settings.directory)
    if problems:
        _fail("; ".join(problems))
    typer.echo(f"added {added} feed(s)")


@feeds_cli.command("import")
def feeds_import(
    opml: Path, topic: Annotated[list[str], typer.Option("--topic")], config: ConfigOption = None
) -> None:
    """Import the feeds of an OPML file into feeds.yaml."""
    from worker.feeds.opml import read_opml

    settings = _config(config)
    if not opml.is_file():
        _fail(f"{opml}: no such file")
    outlines = read_opml(opml.read_bytes(), str(opml))
    entries = [
        {"url": o.url, "topics": list(topic), **({"name": o.name} if o.name else {})}
        for o in outlines
    ]
    added = _append_feeds(settings.directory, entries)
    problems = check_config(settings.directory)
    if problems:
        _fail("; ".join(problems))
    typer.echo(f"imported {added} new feed(s) of {len(outlines)} in {opml}")


@cli.command()
def demo(
    keep: Annotated[
        Path | None, typer.Option(help="Keep the demo's config, corpus and data in this folder.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Offline end-to-end run on bundled feeds, served on loopback; prints alerts as they arrive."""
    _logging(verbose)
    from worker.demo import run_demo

    run_demo(keep, echo=typer.echo)


def main() -> None:
    try:
        cli()
    except ConfigError as error:
        for problem in error.problems:
            typer.secho(problem, fg=typer.colors.RED, err=True)
        sys.exit(1)
    except NewswatchError as error:
        typer.secho(f"newswatch: {error}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

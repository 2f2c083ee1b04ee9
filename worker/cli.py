"""The `newswatch` command (SPEC §6). Errors are one clear line and a non-zero exit: 2 when
the command as typed or the config cannot be acted on (click's code for usage errors), 1
when it ran and something failed."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from worker.config import (
    Config,
    check_config,
    default_config_dir,
    feed_id,
    is_feed_url,
    literal,
    load_config,
    load_service,
    sending,
)
from worker.errors import ConfigError, NewswatchError, UsageError
from worker.terminal import printable

if TYPE_CHECKING:
    from worker.alerts import Delivery
    from worker.config_edit import Added, NewFeed
    from worker.runs import RunSummary
    from worker.store import EntryFailure, Store

F = TypeVar("F", bound=Callable[..., Any])

cli = typer.Typer(
    help="newswatch keeps a topic's news corpus current and alerts when the story moves.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's formatting costs more start-up than the rest of `--help`.
    rich_markup_mode=None,
)
feeds_cli = typer.Typer(
    help="List, add and import feeds.", no_args_is_help=True, rich_markup_mode=None
)
cli.add_typer(feeds_cli, name="feeds")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config folder (default: config/ or NEWSWATCH_CONFIG_DIR)."),
]


def echo(text: str, *, err: bool = False, **style: Any) -> None:
    """Print one line; what came from articles, feeds or servers cannot drive the terminal."""
    typer.secho(printable(text), err=err, **style)


DryRunOption = Annotated[
    bool,
    typer.Option("--dry-run", help="Process everything; print what would be sent; send nothing."),
]


def _config(directory: Path | None) -> Config:
    """The config, without the alert channels whose secrets are unset: a command that
    sends alerts passes it through `sending`, which refuses those in one line."""
    settings = load_config(
        directory.resolve() if directory is not None else None, require_channels=False
    )
    if not logging.getLogger().handlers:
        # A command's own process: its warnings in the configured format, escaped, like the
        # workers' (else Python's last-resort handler prints them raw, as plain text).
        _logging(False, settings)
    return settings


@contextmanager
def _store(settings: Config) -> Iterator[Store]:
    """The store for a read-only command: Redis only, none of the pipeline's imports."""
    from worker import launcher
    from worker.store import Store, connect

    with launcher.redis_for(settings) as services:
        yield Store(connect(services.redis_url))


USAGE = 2  # the command as typed, or the config, cannot be acted on


def _fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr and exit `code`: 1 when something failed, USAGE for what was
    typed or configured."""
    echo(f"newswatch: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _logging(verbose: bool, settings: Config | None = None) -> None:
    from worker import logs

    log_format = settings.service.log_format if settings else "text"
    logs.configure(log_format, logging.INFO if verbose else logging.WARNING)


@cli.command("check-config")
def check_config_command(config: ConfigOption = None) -> None:
    """Validate the config folder; print every problem as `file:line: key: what is wrong`."""
    directory = config or Path(os.environ.get("NEWSWATCH_CONFIG_DIR", "config"))
    problems = check_config(directory)
    if problems:
        for problem in problems:
            echo(problem, err=True)
        echo(f"{len(problems)} problem(s) in {directory}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    echo(f"{directory}: configuration is valid")


@cli.command()
def run(
    config: ConfigOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Processes of the article worker's pool; unset, the worker's own size "
            "(2 processes). The poller keeps its 16 threads."
        ),
    ] = None,
    dry_run: DryRunOption = False,
) -> None:
    """Run a worker and beat (with an embedded Redis when no Redis URL is configured)."""
    from worker import launcher

    settings = _dry_run(_config(config), dry_run)
    if dry_run:
        echo("newswatch: dry run: alerts are logged as `would send`, never sent")
    else:
        sending(settings)
    with launcher.redis_for(settings, own=True) as services:
        where = "embedded Redis" if services.embedded else "Redis"
        echo(
            f"newswatch: {where} at {services.redis_url}; starting workers and beat "
            "(Ctrl-C or SIGTERM stops)"
        )
        launcher.start_workers(services, settings, concurrency=concurrency)
        launcher.start_beat(services, settings)
        code = launcher.supervise(services, settings, echo=echo)
    if code:
        raise typer.Exit(code)


@cli.command()
def poll(
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once.")] = False,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 600,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    dry_run: DryRunOption = False,
) -> None:
    """Poll every feed once, process all that follows through the task queue, summarise."""
    if not once:
        _fail("only `poll --once` exists; `newswatch run` polls on a schedule", USAGE)
    from worker import launcher
    from worker.runs import poll_once

    settings = _dry_run(_config(config), dry_run)
    if not dry_run:
        sending(settings)
    _logging(verbose, settings)
    with launcher.redis_for(settings) as services:
        summary = poll_once(settings, services, timeout, echo=echo, dry_run=dry_run)
    _print_summary(summary)
    if summary.pending:
        raise typer.Exit(2)
    if summary.get("failed"):
        raise typer.Exit(1)


def _dry_run(settings: Config, dry_run: bool) -> Config:
    if not dry_run:
        return settings
    return replace(settings, service=settings.service.model_copy(update={"dry_run": True}))


def _print_summary(stats: RunSummary) -> None:
    polls = stats.polls
    echo(
        f"polled {stats.feeds} feed(s): "
        + (", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(polls.items())) or "none")
    )
    echo(
        f"entries: {stats.get('entries', 0)} new; documents: {stats.get('documents', 0)} "
        f"written, {stats.get('revisions', 0)} revised, {stats.get('copies', 0)} "
        f"duplicates, {stats.get('off_topic', 0)} off topic, "
        f"{stats.get('empty', 0)} without text"
    )
    if stats.get("failed"):
        failed = stats.get("failed")
        echo(
            f"{failed} entr{'y' if failed == 1 else 'ies'} failed "
            "(retried later; `newswatch failures` says why)",
            fg=typer.colors.RED,
        )
    if stats.pending:
        echo(f"{stats.pending} task(s) still pending at the timeout", fg=typer.colors.YELLOW)
    _print_alerts(stats)


def _print_alerts(stats: RunSummary) -> None:
    """The alerts a run raised and how each delivery ended (would have, in a dry run)."""
    if stats.dry_run:
        echo(f"dry run: {len(stats.alerts)} alert(s) would be sent; none was")
        for alert in stats.alerts:
            channels = ", ".join(sorted(alert.deliveries)) or "no channel routed"
            echo(f"  would send {alert.event_id} to {channels}: {alert.summary}")
        return
    if not stats.alerts:
        echo("alerts: none raised")
        return
    states: dict[str, int] = {}
    for alert in stats.alerts:
        for delivery in alert.deliveries.values():
            states[delivery.state] = states.get(delivery.state, 0) + 1
    echo(
        f"alerts: {len(stats.alerts)} raised; deliveries: "
        + (", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "none routed")
    )
    for alert in stats.alerts:
        echo(f"  {alert.event_id} {alert.summary}")
        for channel, delivery in sorted(alert.deliveries.items()):
            echo(f"    {channel}: {_delivery_state(delivery)}")
        if not alert.deliveries:
            echo("    no channel routed")


def _delivery_state(delivery: Delivery) -> str:
    """`delivered (attempts 1)`, `retrying (attempts 2; next try …) — HTTP 503`."""
    notes = [f"attempts {delivery.attempts}"]
    if delivery.detail:
        notes.append(delivery.detail)
    if delivery.state == "retrying" and delivery.next_attempt:
        notes.append(f"next try {_when(delivery.next_attempt)}")
    error = f" — {delivery.last_error}" if delivery.last_error else ""
    return f"{delivery.state} ({'; '.join(notes)}){error}"


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

    settings = sending(_config(config))
    topics = [topic] if topic else list(settings.topics)
    for topic_id in topics:
        if topic_id not in settings.topics:
            _fail(f"no topic named {topic_id!r}{_known(settings.topics)}", USAGE)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        failed = 0
        for item in paths:
            try:
                document = pipeline.read_article(rt, item, source)
            except NewswatchError as error:
                echo(f"newswatch: {error}", fg=typer.colors.RED, err=True)
                failed += 1
                continue
            if document is None:
                echo(f"{item}: no article text found")
                continue
            result = pipeline.process_document(rt, document, topics, None)
            for topic_id, outcome in zip(topics, result.outcomes, strict=True):
                echo(
                    f"{item}: {topic_id}: {outcome.status}"
                    + (f" → {outcome.file}" if outcome.file else "")
                )
                for event in outcome.events:
                    echo(f"  alert {event.id}: {summary_line(event)}")
                    for channel, sent in pipeline.deliver_now(rt, event).items():
                        echo(f"    {channel}: {sent.state} {sent.detail}".rstrip())
        if failed:
            raise typer.Exit(1)


@cli.command()
def explain(
    item: Annotated[str, typer.Argument(help="A file (HTML or text) or a URL.")],
    topic: Annotated[str, typer.Option(help="The topic to read it for.")],
    json_lines: Annotated[bool, typer.Option("--json", help="JSON lines for scripts.")] = False,
    language: Annotated[
        str | None, typer.Option(help="The document's language (default: detected).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Whether a document is on topic, and what each of its numbers was read as, and why."""
    from worker import pipeline
    from worker.articles.language import detect_language
    from worker.language import base_code, supported_languages
    from worker.signals.explain import as_json_lines, as_text
    from worker.signals.explain import explain as explain_document

    if language is not None and base_code(language) not in supported_languages():
        _fail(
            f"--language {language!r}: not a supported language "
            f"(supported: {', '.join(supported_languages())})",
            USAGE,
        )
    settings = _config(config)
    if topic not in settings.topics:
        _fail(f"no topic named {topic!r}{_known(settings.topics)}", USAGE)
    path = Path(item)
    if not item.startswith(("http://", "https://")) and path.is_file():
        if path.stat().st_size > settings.service.max_download_bytes:
            _fail(f"{item}: larger than max_download_bytes")
        raw = path.read_text(encoding="utf-8", errors="replace")
        if "<" not in raw[:2000]:
            # A passage as written, however short: one paragraph a line.
            text, title = raw.strip("\n"), ""
            language = language or detect_language(text)
            explanation = explain_document(text, language, settings.topics[topic], title)
            for line in (as_json_lines if json_lines else as_text)(explanation):
                echo(line)
            return
    rt = pipeline.Runtime(settings, "")  # no Redis: nothing is stored or remembered
    try:
        document = pipeline.read_article(rt, item, learn=False)
    except NewswatchError as error:
        _fail(str(error))
    if document is None:
        _fail(f"{item}: no article text found")
    explanation = explain_document(
        document.text, language or document.language, settings.topics[topic], document.title
    )
    for line in (as_json_lines if json_lines else as_text)(explanation):
        echo(line)


@cli.command()
def figures(
    topic: Annotated[str | None, typer.Argument()] = None, config: ConfigOption = None
) -> None:
    """Each figure's current value and its history with dates, quotes and sources."""
    settings = _config(config)
    if topic and topic not in settings.topics:
        _fail(f"no topic named {topic!r}{_known(settings.topics)}", USAGE)
    with _store(settings) as store:
        for topic_id, topic_settings in settings.topics.items():
            if topic and topic_id != topic:
                continue
            echo(f"{topic_id}: {topic_settings.title}", bold=True)
            states = store.figures(topic_id)
            for figure_id, figure in topic_settings.figures.items():
                state = states.get(figure_id)
                confirmed = state.confirmed if state else None
                if state is None or confirmed is None:
                    echo(f"  {figure.label}: no observation yet")
                    continue
                echo(
                    f"  {figure.label}: {confirmed.shown()} "
                    f"(confirmed by {len(confirmed.sources)} source(s): "
                    f"{', '.join(confirmed.sources)}; published {confirmed.document.dated()})"
                )
                for held in state.unconfirmed:
                    echo(
                        f"    unconfirmed: {held.shown()} ({len(held.sources)} source(s): "
                        f"{', '.join(held.sources)}; published {held.document.dated()}; "
                        "not alerted until another source confirms it)"
                    )
                for step in store.figure_history(topic_id, figure_id):
                    reading = step.reading
                    echo(
                        f"    {reading.document.dated()}  {reading.shown()}  "
                        f"{', '.join(reading.sources)}  {reading.document.file or ''}"
                    )
                    echo(f"      “{_clipped(reading.quote, 160)}”")


def _known(names: Iterable[str]) -> str:
    return f" (known: {', '.join(sorted(names)) or 'none'})"


def _clipped(text: str, limit: int) -> str:
    """Text cut to `limit` characters, marked with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@cli.command()
def alerts(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="How many recent events.")] = 20,
    resend: Annotated[str | None, typer.Option(help="Re-send this event id.")] = None,
) -> None:
    """The alert log: each event with its delivery state per channel."""
    from worker.alerts.events import summary_line

    settings = _config(config)
    if resend:
        _resend(settings, resend)
        return
    with _store(settings) as store:
        for event in store.recent_events(limit):
            echo(f"{event.detected_at}  {event.id}  {summary_line(event)}")
            for channel, state in sorted(store.deliveries(event.id).items()):
                echo(f"    {channel}: {_delivery_state(state)}")


def _resend(settings: Config, resend: str) -> None:
    from worker import launcher, pipeline
    from worker.alerts import Delivery
    from worker.alerts.events import channels_for

    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        event = rt.store.event(resend)
        if event is None:
            _fail(f"no event {resend} (`newswatch alerts` lists them)", USAGE)
        sending(settings, channels_for(event, settings.alerts))
        for channel in pipeline.route_event(rt, event):
            rt.store.save_delivery(resend, channel, Delivery(updated=time.time()))
        for channel, sent in pipeline.deliver_now(rt, event).items():
            echo(f"{resend} → {channel}: {sent.state} {sent.detail}".rstrip())


@cli.command("test-alert")
def test_alert(
    channel: Annotated[str | None, typer.Argument(help="Only this channel.")] = None,
    config: ConfigOption = None,
) -> None:
    """Send a clearly marked test event through each channel (or one) and report the result."""
    from worker import launcher, pipeline
    from worker.alerts.events import channel_test

    settings = _config(config)
    known = sorted([*settings.alerts.channels, *settings.unresolved])
    if channel and channel not in known:
        _fail(f"no channel named {channel!r}{_known(known)}", USAGE)
    channels = [channel] if channel else known
    if not channels:
        _fail(f"no channels are configured in {settings.directory / 'alerts.yaml'}", USAGE)
    sending(settings, channels)
    failed = 0
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        for name in channels:
            result = pipeline.send_now(rt, channel_test(name), name)
            failed += result.state != "delivered"
            echo(f"{name}: {result.state}{f' — {result.detail}' if result.detail else ''}")
    if failed:
        raise typer.Exit(1)


@cli.command()
def reindex(config: ConfigOption = None) -> None:
    """Rebuild every Redis index from the corpus folders and manifests."""
    from worker import launcher, pipeline

    settings = _config(config)
    with launcher.redis_for(settings) as services:
        rt = pipeline.Runtime(settings, services.redis_url)
        rt.store.flush_indexes()
        for topic in settings.topics.values():
            following = pipeline.reindex_topic(rt, topic)
            echo(f"{topic.id}: reindexed; next document number {following:03d}")


@feeds_cli.command("list")
def feeds_list(config: ConfigOption = None) -> None:
    """Per feed: last success, next poll, consecutive errors, last error, entries seen."""
    settings = _config(config)
    with _store(settings) as store:
        failures: dict[str, list[EntryFailure]] = {}
        for failure in store.failures():
            failures.setdefault(failure.feed, []).append(failure)
        for feed in settings.feeds:
            state = store.feed_state(feed_id(feed.url))
            echo(f"{feed.name or feed.url}")
            if state is None:
                echo("    never polled")
                continue
            echo(f"    url: {state.url}{'  (retired)' if state.retired else ''}")
            echo(
                f"    last success: {_when(state.last_success)}; next poll: "
                f"{_when(state.next_poll)}; entries seen: {state.entries_seen}"
            )
            if state.consecutive_errors:
                echo(
                    f"    {state.consecutive_errors} consecutive error(s); last: {state.last_error}"
                )
            failed = failures.get(feed_id(feed.url), [])
            if failed:
                parked = sum(1 for f in failed if f.retry_at is None)
                echo(
                    f"    {len(failed)} entr{'y' if len(failed) == 1 else 'ies'} failed "
                    f"({parked} parked); see `newswatch failures`"
                )


@cli.command()
def failures(
    config: ConfigOption = None,
    retry: Annotated[
        bool, typer.Option("--retry", help="Process every failed entry again now and wait.")
    ] = False,
    timeout: Annotated[float, typer.Option(help="With --retry: give up after this long.")] = 600,
) -> None:
    """Entries whose processing failed: why, how often, and when they are tried again."""
    from worker import launcher
    from worker.runs import retry_failures
    from worker.store import Store, connect

    settings = _config(config)
    if not retry:
        with _store(settings) as store:
            names = {feed_id(f.url): f.name or f.url for f in settings.feeds}
            found = store.failures()
            for failure in found:
                when = (
                    "parked" if failure.retry_at is None else f"next try {_when(failure.retry_at)}"
                )
                echo(f"{names.get(failure.feed, failure.feed)}: {failure.link or failure.entry}")
                echo(f"    {failure.reason} (attempts {failure.attempts}; {when})")
            echo(f"{len(found)} failed entr{'y' if len(found) == 1 else 'ies'}")
        return
    sending(settings)  # what is processed again may alert
    with launcher.redis_for(settings) as services:
        if not Store(connect(services.redis_url)).failures():
            echo("0 failed entries; nothing to retry")
            return
        summary = retry_failures(settings, services, timeout, echo=echo)
    _print_summary(summary)
    if summary.pending:
        raise typer.Exit(2)
    if summary.get("failed"):
        raise typer.Exit(1)


def _when(stamp: float | None) -> str:
    if stamp is None or stamp == float("inf"):
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def _config_dir(config: Path | None) -> Path:
    return config.resolve() if config is not None else default_config_dir()


def _add_feeds(directory: Path, feeds: list[NewFeed]) -> Added:
    # ruamel.yaml is imported by these two commands only: every other one starts sooner.
    from worker.config_edit import add_feeds

    try:
        return add_feeds(directory, feeds)
    except ConfigError as error:
        *others, last = error.problems or ["the new file would not be valid"]
        for problem in others:
            echo(problem, fg=typer.colors.RED, err=True)
        _fail(f"{last}; {directory / 'feeds.yaml'} left as it was", USAGE)
    except OSError as error:
        _fail(f"{directory / 'feeds.yaml'}: not written ({error.strerror}); left as it was")


@feeds_cli.command("add")
def feeds_add(
    url: str,
    topic: Annotated[list[str], typer.Option("--topic", help="Topic id.")],
    name: Annotated[str | None, typer.Option()] = None,
    discover: Annotated[
        bool,
        typer.Option(
            "--discover", help="Fetch URL first; for a web page, add the feed it advertises."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Add a feed to feeds.yaml (checked first; comments and layout kept)."""
    directory = _config_dir(config)
    if discover:
        from worker.pipeline import discover_feed

        try:
            found = discover_feed(load_service(directory), url)
        except NewswatchError as error:
            _fail(str(error))
        if found.page:
            others = f" (it also advertises {', '.join(found.others)})" if found.others else ""
            echo(f"{found.page} is a web page; adding the feed it advertises{others}")
        url = found.url
    from worker.config_edit import NewFeed

    added = _add_feeds(directory, [NewFeed(url, tuple(topic), name)])
    if added.feeds:
        echo(f"added {url} to {added.path}")
    else:
        echo(f"{url} is already in {added.path}; nothing added")


@feeds_cli.command("import")
def feeds_import(
    opml: Path, topic: Annotated[list[str], typer.Option("--topic")], config: ConfigOption = None
) -> None:
    """Import the feeds of an OPML file into feeds.yaml; its folders become comments."""
    from worker.config_edit import NewFeed
    from worker.feeds.opml import read_opml

    if not opml.is_file():
        _fail(f"{opml}: {'a folder, not a file' if opml.is_dir() else 'no such file'}", USAGE)
    outlines = read_opml(opml.read_bytes(), str(opml))
    total = len(outlines)
    for outline in [o for o in outlines if not is_feed_url(o.url)]:
        echo(f"skipped {outline.url!r} ({outline.name or 'no title'}): not an http(s) URL")
    outlines = [o for o in outlines if is_feed_url(o.url)]
    # An outline is data, not the user's config: `${VAR}` in it must not be expanded.
    feeds = [
        NewFeed(
            literal(o.url),
            tuple(topic),
            literal(o.name) if o.name else None,
            f"from OPML folder: {' / '.join(o.folder)}" if o.folder else None,
        )
        for o in outlines
    ]
    added = _add_feeds(_config_dir(config), feeds)
    echo(f"imported {len(added.feeds)} new feed(s) of {total} in {opml}")
    folders = sorted({f.note.removeprefix("from OPML folder: ") for f in added.feeds if f.note})
    if folders:
        echo(f"OPML folders kept as comments above their feeds: {'; '.join(folders)}")


@cli.command()
def web(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """The read-only web view and JSON API: figures, alerts, feeds, the corpus; /metrics.

    Basic auth with NEWSWATCH_WEB_USER and NEWSWATCH_WEB_PASSWORD from the environment.
    """
    user = os.environ.get("NEWSWATCH_WEB_USER", "")
    password = os.environ.get("NEWSWATCH_WEB_PASSWORD", "")
    if not user or not password:
        _fail(
            "set NEWSWATCH_WEB_USER and NEWSWATCH_WEB_PASSWORD (the web view's basic auth)", USAGE
        )
    from worker import launcher
    from worker import web as web_view

    settings = _config(config)
    _logging(verbose, settings)
    try:  # a port already taken is said in one line, not in the server's log (exit 3)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socket.create_server((host, port), family=family).close()
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        _fail(f"cannot listen on {host}:{port}: {reason}")
    with launcher.redis_for(settings) as services:
        echo(f"newswatch web: http://{host}:{port}/ (Redis at {services.redis_url})")
        web_view.serve(
            settings, services.redis_url, web_view.Credentials(user, password), host, port
        )


@cli.command()
def health(
    worker: Annotated[
        list[str] | None,
        typer.Option("--worker", help="A worker on this host by its -n name (worker, poller)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds each check may take.")] = 5.0,
    config: ConfigOption = None,
) -> None:
    """Check this node: Redis answers, and each --worker here answers a ping (exit 1 if not)."""
    from worker.health import check_node

    checks = check_node(worker or [], timeout, _config_dir(config))
    for check in checks:
        echo(check.line(), err=not check.healthy)
    if not all(check.healthy for check in checks):
        raise typer.Exit(1)


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

    run_demo(keep, echo=echo)


def main() -> None:
    try:
        cli()
    except ConfigError as error:
        for problem in error.problems:
            echo(problem, fg=typer.colors.RED, err=True)
        sys.exit(USAGE)
    except NewswatchError as error:
        echo(f"newswatch: {error}", fg=typer.colors.RED, err=True)
        sys.exit(USAGE if isinstance(error, UsageError) else 1)
    except Exception as error:
        from worker.store import STORE_ERRORS  # redis stays with the store (and off --help)

        if not isinstance(error, STORE_ERRORS):
            raise
        echo(
            f"newswatch: Redis: {error} (is it running? redis_url in newswatch.yaml, "
            "or NEWSWATCH_REDIS_URL)",
            fg=typer.colors.RED,
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()

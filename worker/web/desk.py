"""What the desk sees: typed, read-only views of the store, the config and the corpus index.

The pages and the JSON API both serve these records, so the two never disagree. Every
read of the store goes through `Store` methods; this module is the one place that turns
what they return into views.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from worker.alerts import Delivery
from worker.alerts.events import payload, summary_line
from worker.config import Config, TopicSettings, config_stamp, load_config
from worker.errors import ConfigError
from worker.signals import changes
from worker.signals.figures import observe_figures
from worker.store import Store
from worker.web.corpus_index import CorpusIndex, IndexedDocument, manifest_fields

log = logging.getLogger(__name__)


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class DocumentRef(_View):
    """The document a reading or an alert cites."""

    id: str | None = None
    file: str | None = None
    url: str | None = None
    title: str | None = None
    source: str | None = None
    published: str | None = None
    language: str | None = None


class FigurePoint(_View):
    """One reading in a figure's history, placed at its publication time."""

    value: float
    upper: float | None
    qualifier: str
    quote: str
    # Seconds since the epoch: the publication time. An undated reading (a seed) keeps its
    # place in the history: it takes the time of the reading before it (or after it).
    time: float
    # Where the time comes from: the feed's or the page's date, the fetch time when
    # neither gave one, or none at all (a seed).
    time_from: changes.DateSource | Literal["undated"]
    confirmed: bool
    sources: list[str]
    previous: float | None
    document: DocumentRef


class FigureSummary(_View):
    id: str
    label: str
    alert: str
    current: FigurePoint | None
    points: int


class FigureHistory(_View):
    topic: str
    figure: FigureSummary
    points: list[FigurePoint]  # in time order


class TopicSummary(_View):
    id: str
    title: str
    documents: int
    figures: list[FigureSummary]


class ChannelDelivery(_View):
    """A channel's delivery of one event."""

    channel: str
    state: str
    attempts: int
    last_error: str | None
    updated: float | None
    next_attempt: float | None
    delivered_at: float | None


class AlertRow(_View):
    id: str
    type: str
    topic: str | None
    detected_at: str
    summary: str
    deliveries: list[ChannelDelivery]
    event: dict[str, Any]  # the payload of SPEC §5, as sent


class FeedRow(_View):
    id: str
    name: str
    url: str
    topics: list[str]
    polled: bool
    last_success: float | None
    next_poll: float | None
    consecutive_errors: int
    last_error: str | None
    failing_since: float | None
    entries_seen: int
    polls: int
    retired: bool


class DocumentPage(_View):
    topic: str
    query: str | None
    total: int
    offset: int
    limit: int
    documents: list[IndexedDocument]


class FigureReading(_View):
    """A number the figure reader takes from a document for one of the topic's figures."""

    figure: str
    label: str
    value: float
    upper: float | None
    qualifier: str
    quote: str


class DocumentDetail(_View):
    topic: str
    document: IndexedDocument
    manifest: list[dict[str, object]]  # every manifest line: writes, revisions, copies
    paragraphs: list[str]
    figures: list[FigureReading]
    cited_by: list[tuple[str, int]]  # (figure id, index of the point in its history)


class Health(_View):
    status: Literal["ok", "unavailable"]
    redis: str | None  # why Redis did not answer


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def figure_point(
    reading: changes.FigureReading, *, confirmed: bool, previous: float | None = None
) -> FigurePoint:
    """A reading (a step of the confirmed value, or one held unconfirmed) as a chart point."""
    document = reading.document
    published = _epoch(document.published)
    return FigurePoint(
        value=reading.value,
        upper=reading.upper,
        qualifier=reading.qualifier,
        quote=reading.quote,
        time=published or 0.0,
        time_from="undated" if published is None else document.date_source,
        confirmed=confirmed,
        sources=list(reading.sources),
        previous=previous,
        document=DocumentRef(
            id=document.id,
            file=document.file,
            url=document.url,
            title=document.title,
            source=document.source,
            published=document.published,
            language=document.language,
        ),
    )


def channel_delivery(channel: str, delivery: Delivery) -> ChannelDelivery:
    return ChannelDelivery(
        channel=channel,
        state=delivery.state,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        updated=delivery.updated,
        next_attempt=delivery.next_attempt,
        delivered_at=delivery.delivered_at,
    )


# How often (seconds) the config folder is checked for edits: a few `stat` calls.
CONFIG_CHECK_EVERY = 2.0


class Desk:
    """Read-only access to everything the web view shows."""

    def __init__(self, config: Config, store: Store, index: CorpusIndex) -> None:
        self._config = config
        self._config_stamp = config_stamp(config.directory)
        self._checked = time.monotonic()
        self.store = store
        self.index = index

    @property
    def config(self) -> Config:
        """The config folder as it is now: an edit (a topic, a feed) shows without a restart;
        an edit that does not validate is logged and the last valid config kept."""
        now = time.monotonic()
        if now - self._checked < CONFIG_CHECK_EVERY:
            return self._config
        self._checked = now
        stamp = config_stamp(self._config.directory)
        if stamp != self._config_stamp:
            self._config_stamp = stamp
            try:
                # The web view sends nothing: it needs no alert secrets.
                self._config = load_config(self._config.directory, require_channels=False)
                log.info("config reloaded from %s", self._config.directory)
            except ConfigError as error:
                log.warning("config not reloaded: %s", "; ".join(error.problems))
        return self._config

    @config.setter
    def config(self, value: Config) -> None:
        self._config = value

    def topic_settings(self, topic_id: str) -> TopicSettings | None:
        return self.config.topics.get(topic_id)

    def refresh_index(self, topic: TopicSettings) -> None:
        self.index.refresh(topic.id, self.config.corpus_dir(topic), self.config.seeds_dir(topic))

    # -- figures -------------------------------------------------------------------------
    def topics(self) -> list[TopicSummary]:
        summaries = []
        for topic in self.config.topics.values():
            self.refresh_index(topic)
            summaries.append(
                TopicSummary(
                    id=topic.id,
                    title=topic.title,
                    documents=self.index.count(topic.id),
                    figures=[h.figure for h in self.histories(topic)],
                )
            )
        return summaries

    def histories(self, topic: TopicSettings) -> list[FigureHistory]:
        states = self.store.figures(topic.id)
        return [
            self._history(topic, figure_id, states.get(figure_id, changes.FigureState()))
            for figure_id in topic.figures
        ]

    def history(self, topic: TopicSettings, figure_id: str) -> FigureHistory:
        return self._history(topic, figure_id, self.store.figure(topic.id, figure_id))

    def _history(
        self, topic: TopicSettings, figure_id: str, state: changes.FigureState
    ) -> FigureHistory:
        """The steps of the confirmed value and the readings held unconfirmed, by time."""
        settings = topic.figures[figure_id]
        steps = [
            figure_point(step.reading, confirmed=True, previous=step.previous)
            for step in self.store.figure_history(topic.id, figure_id)
        ]
        held = [figure_point(r, confirmed=False) for r in state.unconfirmed]
        points = sorted(_in_time_order(steps) + held, key=lambda p: p.time)
        current = state.confirmed
        summary = FigureSummary(
            id=figure_id,
            label=settings.label,
            alert=settings.alert,
            current=None if current is None else figure_point(current, confirmed=True),
            points=len(points),
        )
        return FigureHistory(topic=topic.id, figure=summary, points=points)

    # -- alerts and feeds ----------------------------------------------------------------
    def alerts(self, limit: int = 100) -> list[AlertRow]:
        events = self.store.recent_events(limit)
        deliveries = self.store.deliveries_of([event.id for event in events])
        return [
            AlertRow(
                id=event.id,
                type=event.type,
                topic=getattr(event, "topic", None),
                detected_at=event.detected_at,
                summary=summary_line(event),
                deliveries=[
                    channel_delivery(c, d) for c, d in sorted(deliveries[event.id].items())
                ],
                event=payload(event),
            )
            for event in events
        ]

    def feeds(self) -> list[FeedRow]:
        from worker.pipeline import feed_id

        rows = []
        for feed in self.config.feeds:
            key = feed_id(feed.url)
            state = self.store.feed_state(key)
            next_poll = None if state is None else state.next_poll
            rows.append(
                FeedRow(
                    id=key,
                    name=feed.name or feed.url,
                    url=state.url if state else feed.url,
                    topics=list(feed.topics),
                    polled=state is not None and state.polls > 0,
                    last_success=state.last_success if state else None,
                    next_poll=None if next_poll in (None, float("inf")) else next_poll,
                    consecutive_errors=state.consecutive_errors if state else 0,
                    last_error=state.last_error if state else None,
                    failing_since=state.failing_since if state else None,
                    entries_seen=state.entries_seen if state else 0,
                    polls=state.polls if state else 0,
                    retired=state.retired if state else False,
                )
            )
        return rows

    # -- the corpus ----------------------------------------------------------------------
    def documents(
        self, topic: TopicSettings, query: str | None, limit: int, offset: int
    ) -> DocumentPage:
        self.refresh_index(topic)
        if query and query.strip():
            page = self.index.search(topic.id, query, limit, offset)
        else:
            page = self.index.documents(topic.id, limit, offset)
        return DocumentPage(
            topic=topic.id,
            query=query or None,
            total=page.total,
            offset=offset,
            limit=limit,
            documents=list(page.documents),
        )

    def document(self, topic: TopicSettings, doc_id: str) -> DocumentDetail | None:
        self.refresh_index(topic)
        found = self.index.document(topic.id, doc_id)
        if found is None:
            return None
        folder = (
            self.config.seeds_dir(topic) if found.folder == "seeds" else None
        ) or self.config.corpus_dir(topic)
        try:
            text = (folder / found.file).read_text(encoding="utf-8")
        except OSError:
            text = ""
        readings = [
            FigureReading(
                figure=o.figure,
                label=topic.figures[o.figure].label,
                value=o.value,
                upper=o.upper,
                qualifier=o.qualifier,
                quote=o.quote,
            )
            for o in observe_figures(text, found.language, topic, found.title)
        ]
        cited = []
        for history in self.histories(topic):
            for number, point in enumerate(history.points):
                if point.document.id == doc_id:
                    cited.append((history.figure.id, number))
        return DocumentDetail(
            topic=topic.id,
            document=found,
            manifest=[manifest_fields(r) for r in self.index.manifest_lines(topic.id, doc_id)],
            paragraphs=text.split("\n") if text else [],
            figures=readings,
            cited_by=cited,
        )

    def health(self) -> Health:
        problem = self.store.unavailable()
        return Health(status="unavailable" if problem else "ok", redis=problem)


def _in_time_order(points: list[FigurePoint]) -> list[FigurePoint]:
    """Points by publication time; an undated one placed beside its neighbour in the
    stored history (the seeds' readings come first there, and have no date)."""
    dated = [None if p.time_from == "undated" else p.time for p in points]
    placed: list[FigurePoint] = []
    for number, point in enumerate(points):
        if point.time_from != "undated":
            placed.append(point)
            continue
        before = next((t for t in reversed(dated[:number]) if t is not None), None)
        after = next((t for t in dated[number + 1 :] if t is not None), None)
        near = before if before is not None else after
        placed.append(point if near is None else point.model_copy(update={"time": near}))
    return placed


def when(stamp: float | None) -> str:
    """A time for people: UTC, to the second."""
    if stamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))

"""Alert events (SPEC §5): one typed record per event type, its JSON the payload.

The payload's keys are these records' field names and nothing else spells them; ids are
stable for the change an event announces, so a re-run cannot double an alert.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, TypeAdapter

from worker.config import AlertSettings, FigureSettings
from worker.signals.changes import DocumentRef, FigureReading, Record, shown_value


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_id(*parts: object) -> str:
    """The same change always yields the same id, so a re-run cannot double an alert."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()
    return f"evt_{digest[:24]}"


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


# 10000.0 is written 10000: a count reads as a count in the JSON and in messages.
Number = Annotated[float, PlainSerializer(_number, return_type=int | float)]
OptionalNumber = Annotated[float | None, PlainSerializer(_number, return_type=int | float | None)]


class FigureRef(Record):
    id: str
    label: str


class FigureSide(Record):
    """A value in an alert: `value` and, for a range, `value_max`; with its citation."""

    value: Number
    value_max: OptionalNumber = None
    qualifier: str
    quote: str
    document: DocumentRef
    sources: tuple[str, ...] = ()

    @classmethod
    def of(cls, reading: FigureReading) -> FigureSide:
        return cls(
            value=reading.value,
            value_max=reading.upper,
            qualifier=reading.qualifier,
            quote=reading.quote,
            document=reading.document,
            sources=reading.sources,
        )

    def shown(self) -> str:
        return shown_value(self.value, self.value_max, self.qualifier)


class FigureChanged(Record):
    type: Literal["figure.changed"] = "figure.changed"
    id: str
    topic: str
    detected_at: str
    figure: FigureRef
    previous: FigureSide | None
    current: FigureSide
    sources: int  # how many outlets confirm the current value


class TrackedEntity(Record):
    id: str
    names: tuple[str, ...]


class EntityFirstSeen(Record):
    type: Literal["entity.first_seen"] = "entity.first_seen"
    id: str
    topic: str
    detected_at: str
    entity: TrackedEntity
    quote: str
    document: DocumentRef


class EmergingName(Record):
    name: str
    documents: int
    sources: int


class EntityEmerging(Record):
    type: Literal["entity.emerging"] = "entity.emerging"
    id: str
    topic: str
    detected_at: str
    entity: EmergingName
    document: DocumentRef


class FeedRef(Record):
    url: str
    error: str | None
    since: str


class FeedHealth(Record):
    type: Literal["feed.failing", "feed.recovered"]
    id: str
    topic: str | None
    topics: tuple[str, ...]
    detected_at: str
    feed: FeedRef


class ChannelTest(Record):
    """`newswatch test-alert`: marked as a test in its type and its message."""

    type: Literal["test"] = "test"
    id: str
    topic: None = None
    detected_at: str
    message: str
    channel: str


AlertEvent = Annotated[
    FigureChanged | EntityFirstSeen | EntityEmerging | FeedHealth | ChannelTest,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[AlertEvent] = TypeAdapter(AlertEvent)


def payload(event: AlertEvent) -> dict[str, Any]:
    """The event as SPEC §5's JSON object."""
    return event.model_dump(mode="json")


def from_payload(data: dict[str, Any] | str | bytes) -> AlertEvent:
    """An event read back from its JSON (the store, a test, a receiver)."""
    if isinstance(data, str | bytes):
        return _EVENT.validate_json(data)
    return _EVENT.validate_python(data)


def figure_changed(
    topic: str,
    figure_id: str,
    figure: FigureSettings,
    previous: FigureReading | None,
    current: FigureReading,
) -> FigureChanged:
    return FigureChanged(
        id=event_id(
            topic,
            "figure.changed",
            figure_id,
            previous.comparable(figure.alert) if previous else None,
            current.comparable(figure.alert),
        ),
        topic=topic,
        detected_at=utc_now(),
        figure=FigureRef(id=figure_id, label=figure.label),
        previous=FigureSide.of(previous) if previous else None,
        current=FigureSide.of(current),
        sources=len(current.sources),
    )


def entity_first_seen(
    topic: str, entity: str, names: list[str], quote: str, document: DocumentRef
) -> EntityFirstSeen:
    return EntityFirstSeen(
        id=event_id(topic, "entity.first_seen", entity),
        topic=topic,
        detected_at=utc_now(),
        entity=TrackedEntity(id=entity, names=tuple(names)),
        quote=quote,
        document=document,
    )


def entity_emerging(
    topic: str, name: str, documents: int, sources: int, document: DocumentRef
) -> EntityEmerging:
    return EntityEmerging(
        id=event_id(topic, "entity.emerging", name.casefold()),
        topic=topic,
        detected_at=utc_now(),
        entity=EmergingName(name=name, documents=documents, sources=sources),
        document=document,
    )


def feed_health(
    kind: Literal["feed.failing", "feed.recovered"],
    feed_url: str,
    topics: list[str],
    error: str | None,
    since: float,
) -> FeedHealth:
    return FeedHealth(
        type=kind,
        id=event_id(kind, feed_url, int(since)),
        topic=topics[0] if topics else None,
        topics=tuple(topics),
        detected_at=utc_now(),
        feed=FeedRef(
            url=feed_url,
            error=error,
            since=datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    )


def channel_test(channel: str) -> ChannelTest:
    """A marked test event; a new id each time, so each test is delivered."""
    now = utc_now()
    return ChannelTest(
        id=event_id("test", channel, now, datetime.now(UTC).timestamp()),
        detected_at=now,
        message=f"TEST from newswatch: checking the channel {channel!r}; no news here",
        channel=channel,
    )


def channels_for(event: AlertEvent, alerts: AlertSettings) -> list[str]:
    """The channels whose routes take this event's topic and type, each once."""
    if isinstance(event, ChannelTest):
        return [event.channel]
    topics = set(event.topics) if isinstance(event, FeedHealth) else {event.topic}
    chosen: list[str] = []
    for route in alerts.routes:
        topic_ok = "*" in route.topics or bool(topics & set(route.topics))
        type_ok = "*" in route.events or event.type in route.events
        if topic_ok and type_ok:
            chosen.extend(c for c in route.channels if c not in chosen)
    return chosen


def summary_line(event: AlertEvent) -> str:
    """One line describing an event, for subjects, logs and the CLI."""
    if isinstance(event, FigureChanged):
        was = f" (was {event.previous.shown()})" if event.previous else " (first report)"
        sources = f"{event.sources} source" + ("s" if event.sources != 1 else "")
        return f"{event.figure.label}: {event.current.shown()}{was} [{sources}]"
    if isinstance(event, EntityFirstSeen):
        return f"First mention of {event.entity.id} on {event.topic}"
    if isinstance(event, EntityEmerging):
        entity = event.entity
        return (
            f"Emerging name on {event.topic}: {entity.name} "
            f"({entity.documents} documents, {entity.sources} sources)"
        )
    if isinstance(event, ChannelTest):
        return f"TEST alert for channel {event.channel} (not news)"
    return f"Feed {event.type.removeprefix('feed.')}: {event.feed.url}"

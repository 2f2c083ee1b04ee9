"""Alert events (SPEC §5): the payloads, with ids stable for the change they announce."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from worker.config import AlertSettings, FigureSettings

if TYPE_CHECKING:  # the `alerts` command imports this module; it reads no figures
    from worker.signals.changes import FigureValue


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


def _figure_side(value: FigureValue | None) -> dict[str, Any] | None:
    if value is None:
        return None
    side: dict[str, Any] = {
        "value": _number(value.value),
        "qualifier": value.qualifier,
        "quote": value.quote,
        "document": value.document,
    }
    if value.upper is not None:
        side["value_max"] = _number(value.upper)
    return side


def figure_changed(
    topic: str,
    figure_id: str,
    figure: FigureSettings,
    previous: FigureValue | None,
    current: FigureValue,
) -> dict[str, Any]:
    return {
        "id": event_id(
            topic,
            "figure.changed",
            figure_id,
            previous.comparable(figure.alert) if previous else None,
            current.comparable(figure.alert),
        ),
        "type": "figure.changed",
        "topic": topic,
        "detected_at": utc_now(),
        "figure": {"id": figure_id, "label": figure.label},
        "previous": _figure_side(previous),
        "current": _figure_side(current),
        "sources": len(current.sources),
    }


def entity_first_seen(
    topic: str, entity: str, names: list[str], quote: str, document: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id(topic, "entity.first_seen", entity),
        "type": "entity.first_seen",
        "topic": topic,
        "detected_at": utc_now(),
        "entity": {"id": entity, "names": names},
        "quote": quote,
        "document": document,
    }


def entity_emerging(
    topic: str, name: str, documents: int, sources: int, document: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id(topic, "entity.emerging", name.casefold()),
        "type": "entity.emerging",
        "topic": topic,
        "detected_at": utc_now(),
        "entity": {"name": name, "documents": documents, "sources": sources},
        "document": document,
    }


def feed_health(
    kind: str, feed_url: str, topics: list[str], error: str | None, since: float
) -> dict[str, Any]:
    return {
        "id": event_id(kind, feed_url, int(since)),
        "type": kind,
        "topic": topics[0] if topics else None,
        "topics": topics,
        "detected_at": utc_now(),
        "feed": {
            "url": feed_url,
            "error": error,
            "since": datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def channels_for(event: dict[str, Any], alerts: AlertSettings) -> list[str]:
    """The channels whose routes take this event's topic and type, each once."""
    topics = set(event.get("topics") or [event.get("topic")])
    chosen: list[str] = []
    for route in alerts.routes:
        topic_ok = "*" in route.topics or bool(topics & set(route.topics))
        type_ok = "*" in route.events or event["type"] in route.events
        if topic_ok and type_ok:
            chosen.extend(c for c in route.channels if c not in chosen)
    return chosen


def summary_line(event: dict[str, Any]) -> str:
    """One line describing an event, for subjects, logs and the CLI."""
    kind = event["type"]
    if kind == "figure.changed":
        current, previous = event["current"], event.get("previous")

        def show(side: dict[str, Any]) -> str:
            text = f"{side['value']:,}"
            if side.get("value_max") is not None:
                text += f"–{side['value_max']:,}"
            return text if side["qualifier"] == "exact" else f"{side['qualifier']} {text}"

        was = f" (was {show(previous)})" if previous else " (first report)"
        return f"{event['figure']['label']}: {show(current)}{was}"
    if kind == "entity.first_seen":
        return f"First mention of {event['entity']['id']} on {event['topic']}"
    if kind == "entity.emerging":
        entity = event["entity"]
        return (
            f"Emerging name on {event['topic']}: {entity['name']} "
            f"({entity['documents']} documents, {entity['sources']} sources)"
        )
    return f"Feed {kind.removeprefix('feed.')}: {event['feed']['url']}"

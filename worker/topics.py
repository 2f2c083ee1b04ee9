"""Topic relevance: every `all` group of the topic named in the document."""

from __future__ import annotations

from worker.config import TopicSettings
from worker.text import normalise
from worker.words import mentions_any


def is_relevant(
    text: str, topic: TopicSettings, title: str = "", language: str | None = None
) -> bool:
    """On topic when every `all` group has at least one name in the title or text.

    Names match their inflected forms in the document's language (Россию for Россия).
    """
    source = f"{title}\n{text}"
    folded = normalise(source)
    return all(
        mentions_any(folded, tuple(group.any), language, source) for group in topic.relevance.all
    )

"""Topic relevance: every `all` group of the topic named in the document."""

from __future__ import annotations

from worker.config import TopicSettings
from worker.text import fold, mentions


def is_relevant(text: str, topic: TopicSettings, title: str = "") -> bool:
    """On topic when every `all` group has at least one name in the title or text."""
    folded = fold(f"{title}\n{text}")
    return all(mentions(folded, group.any) for group in topic.relevance.all)

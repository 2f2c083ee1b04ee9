"""OPML import: the feed URLs of an outline, with the folders they sit in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree

from worker.errors import ParseError


@dataclass(frozen=True)
class OutlineFeed:
    url: str
    name: str | None
    folder: tuple[str, ...] = ()  # the titles of the outlines it is nested in


def read_opml(data: bytes, source: str = "OPML") -> list[OutlineFeed]:
    try:
        root = ElementTree.fromstring(data)
    except Exception as error:  # defusedxml and expat raise several unrelated types
        raise ParseError(f"{source}: not a readable OPML file ({error})") from error
    feeds: list[OutlineFeed] = []
    _collect(root, (), feeds)
    return feeds


def _collect(element: Any, folder: tuple[str, ...], feeds: list[OutlineFeed]) -> None:
    for outline in element:
        if outline.tag != "outline":
            _collect(outline, folder, feeds)  # <body>, or an unknown wrapper
            continue
        title = (outline.get("title") or outline.get("text") or "").strip()
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            feeds.append(OutlineFeed(url.strip(), title or None, folder))
        _collect(outline, (*folder, title) if title and not url else folder, feeds)

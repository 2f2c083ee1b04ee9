"""OPML import: the feed URLs of an outline, nested folders included."""

from __future__ import annotations

from dataclasses import dataclass

from defusedxml import ElementTree

from worker.errors import ParseError


@dataclass(frozen=True)
class OutlineFeed:
    url: str
    name: str | None


def read_opml(data: bytes, source: str = "OPML") -> list[OutlineFeed]:
    try:
        root = ElementTree.fromstring(data)
    except Exception as error:  # defusedxml and expat raise several unrelated types
        raise ParseError(f"{source}: not a readable OPML file ({error})") from error
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            feeds.append(OutlineFeed(url.strip(), outline.get("title") or outline.get("text")))
    return feeds

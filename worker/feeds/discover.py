"""Web pages given as feeds: telling one apart, and the feeds it advertises with
`<link rel="alternate">` (the RSS autodiscovery convention, used for Atom and JSON too)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",  # JSON Feed 1.0 pages still advertise this
    }
)
# The first element after the prolog, comments and doctype; possessive, so a document
# that does not match is not tried again every other way (linear in its length).
_LEAD = re.compile(
    rb"\A(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE\s+(?P<doctype>[\w:.-]+)[^>]*>)*+<(?P<root>[\w:.-]+)",
    re.DOTALL | re.IGNORECASE,
)
_PAGE_ROOTS = {b"html", b"head", b"body"}
_FEED_ROOTS = {b"rss", b"feed", b"rdf", b"channel"}


def is_web_page(probe: bytes) -> bool:
    """True when an (ASCII-compatible) document is HTML: its root element is, or it has an
    html doctype and a root that is no feed's (some generators put `<!DOCTYPE html>` on top
    of an Atom feed)."""
    match = _LEAD.match(probe.removeprefix(b"\xef\xbb\xbf"))
    if match is None:
        return False
    root = match.group("root").lower().split(b":")[-1]
    doctype = (match.group("doctype") or b"").lower()
    return root in _PAGE_ROOTS or (doctype == b"html" and root not in _FEED_ROOTS)


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"].strip())
        elif tag == "link" and "alternate" in values.get("rel", "").lower().split():
            kind = values.get("type", "").split(";")[0].strip().lower()
            href = values.get("href", "").strip()
            if kind in FEED_TYPES and href:
                url = urljoin(self.base, href)
                if urlsplit(url).scheme in ("http", "https") and url not in self.feeds:
                    self.feeds.append(url)


def advertised_feeds(html: bytes, url: str) -> tuple[str, ...]:
    """The absolute URLs of the feeds a page advertises, in page order."""
    parser = _Links(url)
    try:
        parser.feed(html.decode("utf-8", errors="replace"))
        parser.close()
    except (ValueError, AssertionError):  # html.parser on very broken markup
        pass
    return tuple(parser.feeds)

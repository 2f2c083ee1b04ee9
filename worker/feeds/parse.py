"""Feed bytes → our own typed `ParsedFeed`: RSS 0.9x/1.0/2.0, Atom, RDF and JSON Feed.

A fast parser (fastfeedparser) takes what it can; feedparser, slower but forgiving,
takes the rest. Both sit behind `parse_feed`, and nothing downstream sees their dicts.
Entity declarations are refused before either parser runs: feedparser resists external
entities and nested bombs but not quadratic blowup (one entity repeated many times).
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import fastfeedparser
import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser as DefusedXMLParser

from worker.encodings import WIDE, readable_encoding
from worker.errors import ParseError, WebPageError
from worker.feeds.discover import advertised_feeds, is_web_page

log = logging.getLogger(__name__)

_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
# An RSS item's start, and a date element of its own (RSS, Dublin Core, Atom's in RSS).
_ITEM = re.compile(rb"<(?:[\w.-]+:)?item[\s>]", re.IGNORECASE)
_ITEM_DATE = re.compile(
    rb"<(?:[\w.-]+:)?(?:pubDate|date|published|updated|issued|created|modified|lastBuildDate)"
    rb"[\s>/]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as newswatch needs it."""

    id: str
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    guid: str | None = None
    author: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Entry:
        published = data.get("published")
        return cls(
            **{**data, "published": datetime.fromisoformat(published) if published else None}
        )


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    language: str | None
    entries: tuple[Entry, ...]
    parser: str


def parse_feed(body: bytes, url: str = "") -> ParsedFeed:
    """Parse a feed document; raise ParseError with the reason when it is not a feed."""
    if not body.strip():
        raise ParseError(f"{url}: empty document")
    _refuse_entity_declarations(body, url)
    # A web page is no feed, although both parsers make an empty one of it.
    if is_web_page(_as_utf8(body[:65536], url)):
        raise WebPageError(url, advertised_feeds(_as_utf8(body, url), url))
    if body.lstrip()[:1] in (b"{", b"["):
        return _parse_json_feed(body, url)
    try:
        raw = fastfeedparser.parse(body)
        feed = _from_fast(raw, url, body)
        if feed.entries or feed.title:
            return feed
    except Exception as error:
        log.debug("fastfeedparser rejected %s (%s); falling back to feedparser", url, error)
    return _parse_with_feedparser(body, url)


def entry_identity(guid: str | None, link: str | None, title: str, summary: str) -> str:
    """GUID and link together, else either, else a hash of the content: stable across polls.

    The link is part of it even when there is a GUID: feeds that reuse one GUID for
    different articles would otherwise lose all but the first of them.
    """
    guid, link = (guid or "").strip(), (link or "").strip()
    basis = f"{guid}\n{link}" if guid and link and guid != link else guid or link
    if not basis:
        basis = "content:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


# Byte-order marks and first bytes of "<?" in the wide encodings (XML 1.0 Appendix F).
_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"),
)  # fmt: skip


_UTF7_BOM = re.compile(rb"^\+/v[89+/]")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\s[^>]*?encoding\s*=\s*["']([^"']{1,40})["']""")
_PLAIN = frozenset({"utf-8", "ascii", "utf-8-sig"})


def _as_utf8(body: bytes, url: str) -> bytes:
    """The document as UTF-8, so a byte scan reads its markup as the parsers will.

    An encoding that does not write ASCII as ASCII (UTF-7: `+ADw-!ENTITY`) is refused;
    one that does but may still hide markup from a byte scan (ISO-2022's escapes between
    two letters of `<!ENTITY`) is decoded first.
    """
    for prefix, encoding in _WIDE_ENCODINGS:
        if body.startswith(prefix):
            return body.decode(encoding, errors="replace").encode("utf-8")
    if _UTF7_BOM.match(body):
        raise ParseError(f"{url}: UTF-7 is refused (it hides markup from the entity check)")
    if declaration := _XML_ENCODING.match(body):
        declared = declaration.group(1).decode("ascii", errors="replace")
        codec = readable_encoding(declared)
        if codec is None:
            raise ParseError(
                f"{url}: encoding {declared!r} is refused (not an ASCII-compatible encoding)"
            )
        if codec not in _PLAIN and codec not in WIDE:
            return body.decode(codec, errors="replace").encode("utf-8")
    return body


def _refuse_entity_declarations(body: bytes, url: str) -> None:
    probe = _as_utf8(body, url)
    if _ENTITY_DECLARATION.search(probe):
        raise ParseError(f"{url}: entity declarations are refused (XML bomb protection)")
    if probe.lstrip()[:1] in (b"<", b"{", b"[") and not _DOCTYPE.search(probe):
        # Entities are declared only inside a DOCTYPE (XML 1.0 §2.8); an ASCII-compatible
        # document without one has nothing to expand, and the full parse below costs more
        # than parsing the feed itself.
        return
    # defusedxml's parser also catches declarations smuggled in through encodings the
    # byte scan cannot read (UTF-32, EBCDIC…); other XML errors are the feed parser's.
    parser = DefusedXMLParser(forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(body)
        parser.close()
    except DefusedXmlException as error:
        raise ParseError(f"{url}: {type(error).__name__} refused (XML bomb protection)") from error
    except Exception:  # noqa: S110 - malformed XML is feedparser's to judge
        pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(v.get("value") if isinstance(v, Mapping) else v) for v in value)
    return str(value)


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if hasattr(value, "tm_year"):
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _make_entry(
    raw: Mapping[str, Any], base: str, published: datetime | None, content: str
) -> Entry:
    link = raw.get("link") or None
    if link:
        try:
            link = urljoin(base, str(link).strip())
        except ValueError:  # "http://[broken/…": no usable link; the entry keeps its content
            log.warning("feed %s: entry link %r is not a URL; ignored", base, str(link)[:200])
            link = None
    guid = raw.get("id") or raw.get("guid") or None
    title = _TAGS.sub("", _text(raw.get("title"))).strip()
    summary = _text(raw.get("summary") or raw.get("description"))
    author = raw.get("author") or None
    return Entry(
        id=entry_identity(str(guid) if guid else None, link, title, summary),
        link=link,
        title=title,
        summary=summary,
        content=content or summary,
        published=published,
        guid=str(guid) if guid else None,
        author=str(author) if author else None,
    )


def _dated_items(body: bytes, count: int) -> list[bool] | None:
    """For each of a feed's `count` RSS items, in order, whether it has a date element of
    its own; None when its items cannot be told apart so (an Atom feed, a wide encoding)."""
    starts = [match.start() for match in _ITEM.finditer(body)]
    if not starts or len(starts) != count:
        return None
    ends = [*starts[1:], len(body)]
    return [
        bool(_ITEM_DATE.search(body, start, end)) for start, end in zip(starts, ends, strict=True)
    ]


def _from_fast(raw: Mapping[str, Any], url: str, body: bytes) -> ParsedFeed:
    meta = raw.get("feed") or {}
    base = str(meta.get("link") or url) or url
    base = urljoin(url, base) if url else base
    items = raw.get("entries") or []
    # fastfeedparser dates an RSS item without a date by its GUID, read as a date ("7-8"
    # becomes 8 July, "2024" the first of this month): an item has only a date it states.
    dated = _dated_items(body, len(items))
    entries = tuple(
        _make_entry(
            e,
            base,
            _date(e.get("published") or e.get("updated")) if dated is None or dated[i] else None,
            _text(e.get("content")),
        )
        for i, e in enumerate(items)
    )
    return ParsedFeed(
        title=_text(meta.get("title")),
        link=meta.get("link"),
        language=meta.get("language"),
        entries=entries,
        parser="fastfeedparser",
    )


def _parse_with_feedparser(body: bytes, url: str) -> ParsedFeed:
    try:
        raw = feedparser.parse(
            body,
            response_headers={"content-location": url} if url else None,
            sanitize_html=False,
            resolve_relative_uris=True,
        )
    except (ValueError, LookupError, UnicodeError) as error:
        # feedparser's encoding detection raises on some corrupt inputs (found by fuzzing)
        raise ParseError(f"{url}: unreadable feed ({type(error).__name__}: {error})") from error
    meta = raw.get("feed") or {}
    if not raw.get("entries") and not raw.get("version") and not meta:
        reason = raw.get("bozo_exception") or "no feed elements found"
        raise ParseError(f"{url}: not a feed ({reason})")
    base = url or str(meta.get("link") or "")
    entries = tuple(
        _make_entry(
            e,
            base,
            # dict.get: FeedParserDict.get maps a missing `published_parsed` to
            # `updated_parsed` itself, with a DeprecationWarning.
            _date(dict.get(e, "published_parsed") or dict.get(e, "updated_parsed")),
            _text(e.get("content")),
        )
        for e in raw["entries"]
    )
    return ParsedFeed(
        title=_text(meta.get("title")),
        link=meta.get("link"),
        language=meta.get("language"),
        entries=entries,
        parser="feedparser",
    )


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (https://www.jsonfeed.org/version/1.1/)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ParseError(f"{url}: not valid JSON ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("items", []), list):
        raise ParseError(f"{url}: JSON document is not a JSON Feed (no items list)")
    base = str(data.get("home_page_url") or url)
    entries = []
    for item in data.get("items", []):
        if not isinstance(item, dict):
            continue
        raw = {
            "id": item.get("id"),
            "link": item.get("url") or item.get("external_url"),
            "title": item.get("title"),
            "summary": item.get("summary") or "",
        }
        content = str(item.get("content_html") or item.get("content_text") or "")
        entries.append(_make_entry(raw, base, _date(item.get("date_published")), content))
    return ParsedFeed(
        title=str(data.get("title") or ""),
        link=data.get("home_page_url"),
        language=data.get("language"),
        entries=tuple(entries),
        parser="jsonfeed",
    )

"""Article page → `Article`: the body paragraphs and metadata, via trafilatura.

trafilatura's output becomes our own `Article` here; nothing downstream sees its tree.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from charset_normalizer import from_bytes
from tld import get_fld

from worker.encodings import readable_encoding

log = logging.getLogger(__name__)

_TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|_ga|_gl|igshid|"
    r"ref|ref_src|referrer|cmpid|ocid|smid|sr_share|at_medium|at_campaign|spm|share|"
    r"__twitter_impression|s_cid|cid)$",
    re.IGNORECASE,
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """An article as extracted from its page, before normalisation."""

    url: str
    canonical_url: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime | None
    site_name: str | None = None
    html_language: str | None = None


def decode_html(body: bytes, content_type: str = "") -> str:
    """Bytes → text, trusting the HTTP header, then a meta charset, then detection.

    A declared charset that is not an ASCII-compatible text encoding (`undefined`,
    `punycode`, UTF-7…) is ignored as if absent: the page's author chose it.
    """
    declared = None
    if header := re.search(r"charset=([\w.:-]+)", content_type, re.IGNORECASE):
        declared = header.group(1)
    elif meta := _META_CHARSET.search(body[:4096]):
        declared = meta.group(1).decode("ascii")
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    if declared:
        codec = readable_encoding(declared)
        if codec is None:
            log.info("declared charset %r is not one newswatch reads; detecting", declared)
        else:
            try:
                return body.decode(codec)
            except UnicodeError:
                log.info("declared charset %s does not decode the page; detecting", declared)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(body).best()
        if best is not None and readable_encoding(best.encoding) is not None:
            return str(best)
        return body.decode("utf-8", errors="replace")


def canonical_url(url: str) -> str:
    """The URL that identifies an article: no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMS.match(k)
    ]
    netloc = parts.netloc.lower()
    if netloc.endswith(":80") and parts.scheme == "http":
        netloc = netloc[:-3]
    if netloc.endswith(":443") and parts.scheme == "https":
        netloc = netloc[:-4]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def same_site(first: str, second: str) -> bool:
    """Whether two URLs are on one site: the same registrable domain (public suffix list,
    private suffixes included, so two blogspot.com blogs are two sites); for hosts outside
    it (IP addresses, reserved names), the same host or one a subdomain of the other."""
    a = (urlsplit(first).hostname or "").rstrip(".").lower()
    b = (urlsplit(second).hostname or "").rstrip(".").lower()
    if not a or not b:
        return False
    site_a = get_fld(a, fix_protocol=True, fail_silently=True)
    site_b = get_fld(b, fix_protocol=True, fail_silently=True)
    if site_a and site_b:
        return bool(site_a == site_b)
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def extract_article(html: str, url: str) -> Article:
    """Extract the body and metadata of an article page (empty paragraphs if none)."""
    # Imported here, not at the top: commands that only read Redis import this package.
    import trafilatura
    import trafilatura.settings

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        favor_precision=True,
    )
    tree = _parse_tree(html)
    declared = _link_canonical(tree, url)
    # A page names its canonical URL for its own site only: one on another host would let
    # any page claim (and overwrite) another outlet's article.
    canonical = declared if declared and same_site(declared, url) else url
    language = tree.get("lang") if tree is not None else None
    if not isinstance(document, trafilatura.settings.Document):
        return Article(
            url=url,
            canonical_url=canonical_url(canonical),
            title=_title(tree),
            paragraphs=(),
            published=None,
            html_language=language,
        )
    text = document.text or ""
    return Article(
        url=url,
        canonical_url=canonical_url(canonical),
        title=(document.title or _title(tree) or "").strip(),
        paragraphs=tuple(line for line in text.split("\n") if line.strip()),
        published=_published(document.date),
        site_name=document.sitename or None,
        html_language=language,
    )


def _parse_tree(html: str) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def _link_canonical(tree: lxml.html.HtmlElement | None, url: str) -> str | None:
    if tree is None:
        return None
    for link in tree.iterfind(".//link[@rel]"):
        if link.get("rel", "").lower().strip() == "canonical" and link.get("href"):
            candidate = urljoin(url, str(link.get("href")).strip())
            if candidate.startswith(("http://", "https://")):
                return candidate
    return None


def _title(tree: lxml.html.HtmlElement | None) -> str:
    if tree is None:
        return ""
    titles = tree.xpath("//title/text()")
    return str(titles[0]).strip() if titles else ""


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

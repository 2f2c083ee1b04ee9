"""Article page → `Article`: the body paragraphs and metadata, via trafilatura.

trafilatura's output becomes our own `Article` here; nothing downstream sees its tree.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.etree
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


def extract_article(html: str, url: str, *, with_date: bool = True) -> Article:
    """Extract the body and metadata of an article page (empty paragraphs if none).

    `with_date=False` skips looking for the publication date (the feed gave one)."""
    # One parse, with trafilatura's parser settings. The title, date, canonical link and
    # language are read first: the extraction then prunes the tree itself.
    tree = _load_html(html)
    if tree is None:
        return Article(url, canonical_url(url), "", (), None)
    declared = _link_canonical(tree, url)
    # A page names its canonical URL for its own site only: one on another host would let
    # any page claim (and overwrite) another outlet's article.
    canonical = canonical_url(declared if declared and same_site(declared, url) else url)
    language = tree.get("lang")
    page_title = _title(tree)
    title, date = _title_and_date(tree, url, with_date)
    text = _body_text(tree, url)
    if text is None:
        return Article(url, canonical, page_title, (), None, language)
    return Article(
        url=url,
        canonical_url=canonical,
        title=(title or page_title or "").strip(),
        paragraphs=tuple(line for line in text.split("\n") if line.strip()),
        published=_published(date),
        html_language=language,
    )


def _body_text(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The body text `trafilatura.bare_extraction` gives for the page with newswatch's
    settings, or None where it gives no document; `tree` is pruned in the process.

    bare_extraction works on a copy of a tree it is handed (copying and freeing it cost
    ~0.8 ms of a page's CPU, 3% of an extraction): here its cascade, the
    `trafilatura_sequence` it calls, runs on the tree itself, followed by what
    bare_extraction does after it with these settings (the output size check, the text).
    A trafilatura whose cascade is not that function goes through bare_extraction."""
    import trafilatura
    from trafilatura.settings import Document, Extractor
    from trafilatura.xml import xmltotxt

    sequence = _trafilatura_sequence()
    if sequence is None:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            with_metadata=False,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            deduplicate=False,
            favor_precision=True,
        )
        return (document.text or "") if isinstance(document, Document) else None
    options = Extractor(
        output_format="python",
        precision=True,
        comments=False,
        tables=False,
        images=False,
        links=False,
        dedup=False,
        url=url,
    )
    try:
        body, text, _, comments = sequence(tree, options, url or None)
    except (TypeError, ValueError):  # bare_extraction's "discarding data"
        log.info("no article extracted from %s", url)
        return None
    if len(text) < options.min_output_size and len(comments) < options.min_output_comm_size:
        return None
    return xmltotxt(body, options.formatting) or ""


@lru_cache(maxsize=1)
def _trafilatura_sequence() -> Callable[..., tuple[Any, str, Any, str]] | None:
    """trafilatura's extraction cascade (tree, options, url) → (body, its text, comments,
    their text), as trafilatura 2.3 calls it from bare_extraction; None if not that."""
    import inspect

    from trafilatura import core

    sequence = getattr(core, "trafilatura_sequence", None)
    if sequence is None or list(inspect.signature(sequence).parameters) != [
        "tree",
        "options",
        "url",
    ]:
        log.warning("this trafilatura's extraction cascade is unknown: pages are copied")
        return None
    return sequence  # type: ignore[no-any-return]


def _load_html(html: str) -> lxml.html.HtmlElement | None:
    """The page's tree as trafilatura's `load_html` builds it from a string (the same
    repairs, parser settings and checks), with its element classes chosen in C.

    lxml.html picks each element's class in a Python method, called every time Python
    touches an element: some 2,800 times per page in trafilatura's passes, 3.6% of an
    extraction's CPU on the 181 benchmark pages. The same classes come from a C look-up
    (a tag's own class, else HtmlElement), so every extraction is the same."""
    from trafilatura.utils import repair_faulty_html

    beginning = html[:50].lower()
    html = repair_faulty_html(html, beginning)
    parser = _html_parser()
    tree = None
    try:
        tree = lxml.html.fromstring(html, parser=parser)
    except ValueError:  # a string declaring its encoding: lxml takes it as bytes only
        return _checked(_from_bytes(html, parser), beginning)
    except Exception as error:  # libxml2 gave up; trafilatura logs and goes on too
        log.info("page not parsed as a string: %s", error)
    if tree is None or len(tree) < 1:
        tree = _from_bytes(html, parser)
    return _checked(tree, beginning)


def _checked(tree: lxml.html.HtmlElement | None, beginning: str) -> lxml.html.HtmlElement | None:
    from trafilatura.utils import is_dubious_html

    # Not HTML at all (no html in its first characters, and hardly a tree).
    if tree is not None and is_dubious_html(beginning) and len(tree) < 2:
        return None
    return tree


def _from_bytes(html: str, parser: lxml.html.HTMLParser) -> lxml.html.HtmlElement | None:
    try:
        return lxml.html.fromstring(html.encode("utf8", "surrogatepass"), parser=parser)
    except Exception as error:  # libxml2 gave up
        log.info("page not parsed as bytes: %s", error)
    return None


@lru_cache(maxsize=1)
def _html_parser() -> lxml.html.HTMLParser:
    """trafilatura's parser (`trafilatura.utils.HTML_PARSER`), element classes from C."""
    parser = lxml.html.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    lookup = lxml.etree.ElementNamespaceClassLookup(
        lxml.etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    # The tags lxml.html gives a class of their own (form, input, select, textarea, label).
    classes = lookup.get_namespace(None)
    for tag, element_class in lxml.html.HtmlElementClassLookup._default_element_classes.items():
        classes[tag] = element_class
    parser.set_element_class_lookup(lookup)
    return parser


def _title_and_date(
    tree: lxml.html.HtmlElement, url: str, with_date: bool
) -> tuple[str | None, str | None]:
    """The page's title and publication date as trafilatura's metadata pass finds them
    (meta tags, JSON-LD, headings; htmldate), without the passes for what newswatch does
    not keep (author, site name, categories, tags, licence)."""
    from htmldate import find_date
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title
    from trafilatura.settings import set_date_params

    metadata = examine_meta(tree)
    # JSON-LD only fills a title the meta tags left empty (and never the URL): with a
    # title there (165 of the 181 benchmark pages) reading it changes nothing.
    if not metadata.title:
        try:
            metadata = extract_meta_json(tree, metadata)
        except Exception as error:  # trafilatura's JSON-LD reader fails on odd markup
            log.info("JSON-LD metadata of %s unreadable: %s", url, error)
    title = metadata.title or extract_title(tree)
    if not with_date:
        return title, None
    return title, find_date(tree, **{**set_date_params(True), "url": metadata.url or url})


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

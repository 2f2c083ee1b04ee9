"""The articles stage: a fetched page (or a feed entry's own content) → a `Document`.

`make_document` knows the order: extract → normalise → fall back to the feed's content
when the page yields too little → metadata (canonical URL, id, language).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

import lxml.html

from worker.articles.corpus import document_id
from worker.articles.extract import (
    Article,
    canonical_url,
    decode_html,
    extract_article,
    same_site,
)
from worker.articles.language import detect_language
from worker.articles.normalise import to_schema_text

__all__ = [
    "Article",
    "Document",
    "decode_html",
    "extract_article",
    "make_document",
    "own_identity",
    "paragraphs_from_html",
    "same_site",
]

# A body shorter than this is "no article": the feed's content is tried instead, and if
# that is short too there is no document (trafilatura returns crumbs for index pages).
MIN_BODY_CHARACTERS = 150


@dataclass(frozen=True)
class Document:
    """An article normalised to the seed schema, with the metadata for its manifest line."""

    id: str
    url: str
    canonical_url: str
    title: str
    text: str
    published: datetime | None
    language: str | None
    source: str
    # Where `published` comes from: the feed's date is preferred to the page's metadata
    # (which extractors sometimes guess); "unknown" when neither gives one.
    date_source: Literal["feed", "page", "unknown"] = "unknown"


def own_identity(document: Document) -> Document:
    """The document identified by the URL it was read from, not the one it claims."""
    own = canonical_url(document.url)
    return replace(document, id=document_id(own), canonical_url=own)


def paragraphs_from_html(fragment: str) -> list[str]:
    """Block-level paragraphs of a feed's HTML content (or plain text lines)."""
    if "<" not in fragment:
        return fragment.split("\n")
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return []
    for bad in root.xpath(".//script|.//style|.//figcaption|.//noscript"):
        bad.drop_tree()
    blocks = root.xpath(".//p|.//li|.//h2|.//h3|.//blockquote")
    if not blocks:
        return [root.text_content()]
    return [block.text_content() for block in blocks if not block.xpath(".//p")]


def make_document(
    article: Article | None,
    *,
    source: str,
    fallback_html: str = "",
    fallback_title: str = "",
    url: str = "",
    published: datetime | None = None,
    language_hint: str | None = None,
    recurring: Callable[[str], bool] | None = None,
) -> Document | None:
    """The document for an article, or None when neither page nor feed holds a body.

    `recurring` names lines that recur across the source's documents (boilerplate).
    """
    title = (article.title if article else "") or fallback_title
    text = to_schema_text(article.paragraphs, title, recurring) if article else ""
    if len(text) < MIN_BODY_CHARACTERS and fallback_html:
        from_feed = to_schema_text(paragraphs_from_html(fallback_html), title, recurring)
        if len(from_feed) > len(text):
            text = from_feed
    if len(text) < MIN_BODY_CHARACTERS:
        return None  # navigation crumbs of an index page are not an article
    page_url = article.url if article else url
    canonical = article.canonical_url if article else canonical_url(url)
    hint = (article.html_language if article else None) or language_hint
    page_date = article.published if article else None
    return Document(
        id=document_id(canonical),
        url=page_url or canonical,
        canonical_url=canonical,
        title=title.strip(),
        text=text,
        published=published or page_date,
        language=detect_language(text, hint),
        source=source,
        date_source="feed" if published else "page" if page_date else "unknown",
    )

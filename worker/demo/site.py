"""The demo's news sites: article pages wrapped like real ones, and their feeds in RSS 2.0,
Atom and JSON Feed, built from `story.yaml`."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class StoryArticle:
    slug: str
    feed: str
    round: int
    published: datetime
    title: str
    paragraphs: tuple[str, ...]

    def path(self) -> str:
        return f"/{self.feed}/{self.published:%Y/%m/%d}/{self.slug}.html"


@dataclass(frozen=True)
class Story:
    feeds: dict[str, dict[str, str]]
    articles: tuple[StoryArticle, ...]

    @property
    def rounds(self) -> int:
        return max(a.round for a in self.articles)

    def told_now(self, now: datetime) -> Story:
        """The story moved to today, an hour per round, so no article is too old to alert
        (`max_age`); within a round the articles keep their spacing and order."""
        latest = {
            r: max(a.published for a in self.articles if a.round == r)
            for r in range(1, self.rounds + 1)
        }
        return replace(
            self,
            articles=tuple(
                replace(
                    a,
                    published=a.published
                    - latest[a.round]
                    + now
                    - timedelta(hours=self.rounds - a.round),
                )
                for a in self.articles
            ),
        )


def load_story() -> Story:
    raw: dict[str, Any] = yaml.safe_load(
        resources.files("worker.demo").joinpath("story.yaml").read_text(encoding="utf-8")
    )
    articles = tuple(
        StoryArticle(
            a["slug"],
            a["feed"],
            int(a["round"]),
            a["published"]
            if isinstance(a["published"], datetime)
            else datetime.fromisoformat(str(a["published"])),
            a["title"],
            tuple(p for p in a["body"].split("\n") if p.strip()),
        )
        for a in raw["articles"]
    )
    return Story(raw["feeds"], articles)


def article_page(article: StoryArticle, site_title: str, language: str) -> str:
    """A page with the clutter real news pages carry around the body."""
    body = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in article.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{language}"><head><meta charset="utf-8">
<title>{escape(article.title)} | {escape(site_title)}</title>
<link rel="canonical" href="{article.path()}?utm_source=feed&amp;utm_medium=rss">
<meta property="article:published_time" content="{article.published.isoformat()}">
</head><body>
<header><a href="/">{escape(site_title)}</a><nav><a href="/">Home</a> <a href="/world">World</a>
<a href="/politics">Politics</a> <a href="/business">Business</a></nav></header>
<main><article>
<h1>{escape(article.title)}</h1>
<div class="byline">By Desk Reporter</div>
<time datetime="{article.published.isoformat()}">{article.published:%d %B %Y %H:%M}</time>
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a></div>
<div class="article-body">
{body}
</div></article>
<aside><h3>Related</h3><ul><li><a href="/a">Markets close higher</a></li>
<li><a href="/b">Weather: heavy rain expected this weekend</a></li></ul></aside></main>
<footer><p>© 2024 {escape(site_title)}. All rights reserved.</p>
<p>This site uses cookies to improve your experience.</p></footer>
</body></html>"""


def render_feed(
    kind: str, meta: dict[str, str], items: list[StoryArticle], base: str, feed_path: str
) -> tuple[str, bytes]:
    """(content type, body) of a feed in RSS 2.0, Atom 1.0 or JSON Feed 1.1."""
    items = sorted(items, key=lambda a: a.published, reverse=True)
    if kind == "rss":
        entries = "".join(
            f"<item><title>{escape(a.title)}</title><link>{base}{a.path()}</link>"
            f'<guid isPermaLink="true">{base}{a.path()}</guid>'
            f"<pubDate>{format_datetime(a.published)}</pubDate>"
            f"<description>{escape(a.paragraphs[0])}</description></item>"
            for a in items
        )
        xml = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(meta['title'])}</title><link>{base}/</link>"
            f"<language>{meta['language']}</language>{entries}</channel></rss>"
        )
        return "application/rss+xml; charset=utf-8", xml.encode("utf-8")
    if kind == "atom":
        entries = "".join(
            f'<entry><title>{escape(a.title)}</title><link href="{a.path()}"/>'
            f"<id>tag:demo,2024:{a.slug}</id><updated>{a.published.isoformat()}</updated>"
            f"<summary>{escape(a.paragraphs[0])}</summary></entry>"
            for a in items
        )
        xml = (
            f'<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/">'
            f"<title>{escape(meta['title'])}</title><id>{base}{feed_path}</id>"
            f"<updated>{items[0].published.isoformat() if items else '2024-01-01T00:00:00Z'}"
            f"</updated>{entries}</feed>"
        )
        return "application/atom+xml; charset=utf-8", xml.encode("utf-8")
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta["title"],
        "home_page_url": f"{base}/",
        "feed_url": f"{base}{feed_path}",
        "language": meta["language"],
        "items": [
            {
                "id": a.slug,
                "url": f"{base}{a.path()}",
                "title": a.title,
                "summary": a.paragraphs[0],
                "date_published": a.published.isoformat(),
            }
            for a in items
        ],
    }
    return "application/feed+json", json.dumps(document, ensure_ascii=False).encode("utf-8")

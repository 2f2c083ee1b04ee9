"""A web page given as a feed is an error that says so, names the feeds the page advertises,
shows in `feeds list` and counts toward `feed.failing`; `feeds add --discover` follows it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, write_config
from worker import pipeline
from worker.cli import cli
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.errors import WebPageError
from worker.feeds import FeedState, Schedule, refresh
from worker.feeds.parse import parse_feed
from worker.net import FetchPolicy, make_client

PAGE = (DATA / "feeds" / "web-page-advertising-feeds.html").read_bytes()
BARE_PAGE = (DATA / "feeds" / "web-page-without-feeds.html").read_bytes()
RSS = (DATA / "feeds" / "rss2.xml").read_bytes()
POLICY = FetchPolicy(timeout=5, allow_private_networks=True)


def test_a_page_names_the_feeds_it_advertises_as_absolute_urls() -> None:
    with pytest.raises(WebPageError) as error:
        parse_feed(PAGE, "https://harbour.example/front")
    assert error.value.feeds == (
        "https://harbour.example/news/world.rss",
        "https://harbour.example/atom.xml",
    )
    assert "a web page (HTML), not a feed" in str(error.value)
    assert "https://harbour.example/news/world.rss" in str(error.value)


@pytest.mark.parametrize(
    "body",
    [
        BARE_PAGE,
        b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "x">\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head></html>',
        b"\xef\xbb\xbf  <HEAD><TITLE>no html element</TITLE></HEAD><BODY>text</BODY>",
    ],
)
def test_pages_in_any_dress_are_pages(body: bytes) -> None:
    with pytest.raises(WebPageError, match="advertises no feed"):
        parse_feed(body, "https://harbour.example/contact")


def test_feeds_are_not_mistaken_for_pages() -> None:
    # A static-site generator puts <!DOCTYPE html> on top of its Atom feed (seen in the wild).
    for name in (
        "rss2.xml",
        "atom.xml",
        "rdf.xml",
        "rss091.xml",
        "jsonfeed.json",
        "atom-under-an-html-doctype.xml",
    ):
        assert parse_feed((DATA / "feeds" / name).read_bytes(), "https://x.example/").entries


def test_polling_a_page_is_an_error_not_an_empty_success(site: LoopbackServer) -> None:
    site.serve("/front", PAGE, "text/html; charset=utf-8")
    with make_client(POLICY) as client:
        outcome = refresh(
            FeedState(url=f"{site.base}/front"),
            client,
            POLICY,
            Schedule(900, 300, 86400),
            1_700_000_000.0,
        )
    assert outcome.status == "error"
    assert outcome.state.last_success is None and outcome.state.consecutive_errors == 1
    assert "use one of them" in (outcome.error or "")
    assert f"{site.base}/news/world.rss" in (outcome.error or "")


def test_a_page_shows_in_feeds_list_and_raises_feed_failing(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    site.serve("/front", PAGE, "text/html; charset=utf-8")
    config = write_config(
        tmp_path,
        feeds=[{"url": f"{site.base}/front", "topics": ["nk-troops-russia"]}],
        service={"feed_failing_after": "1h", "redis_url": redis_url},
    )
    rt = pipeline.Runtime(load_config(config), redis_url)
    pipeline.sync_feeds(rt)
    key = pipeline.feed_id(f"{site.base}/front")
    start = time.time()
    events = [
        e.type
        for offset in (0, 1800, 3700)
        for e in pipeline.poll_feed(rt, key, now=start + offset).events
    ]
    assert events == ["feed.failing"]
    listing = CliRunner().invoke(cli, ["feeds", "list", "--config", str(config)])
    assert listing.exit_code == 0, listing.output
    assert "last success: never" in listing.output
    assert "3 consecutive error(s)" in listing.output
    assert "a web page (HTML), not a feed" in listing.output


def test_feeds_add_discover_adds_the_advertised_feed(tmp_path: Path, site: LoopbackServer) -> None:
    site.serve("/front", PAGE.replace(b"https://harbour.example", site.base.encode()), "text/html")
    site.serve("/news/world.rss", RSS, "application/rss+xml")
    config = write_config(tmp_path)
    result = CliRunner().invoke(
        cli,
        [
            "feeds",
            "add",
            "--discover",
            f"{site.base}/front",
            "--topic",
            "nk-troops-russia",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "is a web page; adding the feed it advertises" in result.output
    assert [f.url for f in load_config(config).feeds] == [f"{site.base}/news/world.rss"]


def test_feeds_add_discover_of_a_page_without_feeds_adds_nothing(
    tmp_path: Path, site: LoopbackServer
) -> None:
    site.serve("/contact", BARE_PAGE, "text/html")
    config = write_config(tmp_path)
    before = (config / "feeds.yaml").read_text()
    result = CliRunner().invoke(
        cli,
        [
            "feeds",
            "add",
            "--discover",
            f"{site.base}/contact",
            "--topic",
            "nk-troops-russia",
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 1
    assert "advertises no feed" in result.output
    assert (config / "feeds.yaml").read_text() == before

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support import DATA, shared_data
from worker.errors import ParseError
from worker.feeds.parse import parse_feed

FEEDS = DATA / "feeds"


def parse(name: str, url: str = "https://feeds.example/feed"):
    return parse_feed((FEEDS / name).read_bytes(), url)


@pytest.mark.parametrize(
    ("name", "title", "link"),
    [
        ("rss2.xml", "Pasukan Korea Utara di Kursk", "https://kabardunia.example/a/1"),
        ("atom.xml", "Ukraine says 11,000 troops", "https://globalwire.example/world/11000"),
        ("rdf.xml", "RDF item", "https://rdf.example/1"),
        ("rss091.xml", "Old item", "https://old.example/1"),
        ("jsonfeed.json", "Intelijen Ukraina", "https://nusantara.example/1"),
    ],
)
def test_every_feed_format_becomes_typed_entries(name: str, title: str, link: str) -> None:
    feed = parse(name)
    first = feed.entries[0]
    assert (first.title, first.link) == (title, link)
    assert len(first.id) == 24


def test_dates_are_timezone_aware() -> None:
    entry = parse("jsonfeed.json").entries[0]
    assert entry.published is not None and entry.published.utcoffset() is not None
    assert entry.published.isoformat() == "2024-11-13T19:40:00+07:00"


def test_titles_lose_their_markup() -> None:
    assert parse("rss2.xml").entries[1].title == "Second"


def test_entries_without_guid_or_link_get_stable_identities_and_absolute_links() -> None:
    feed = parse("no-guids-relative-links.xml", "https://rel.example/feed.xml")
    first, second = feed.entries
    assert first.link == "https://rel.example/news/story-1.html"
    assert second.link is None and second.published is None
    again = parse("no-guids-relative-links.xml", "https://rel.example/feed.xml")
    assert [e.id for e in again.entries] == [first.id, second.id]
    assert first.id != second.id


def test_json_feed_relative_urls_resolve_against_the_home_page() -> None:
    assert parse("jsonfeed.json").entries[1].link == "https://nusantara.example/relative/2"


def test_a_wrong_charset_declaration_still_parses() -> None:
    feed = parse("../hostile/feed-wrong-charset.xml")
    assert len(feed.entries) == 1
    assert "Moscou" in feed.entries[0].title


@pytest.mark.parametrize("name", ["billion-laughs", "xxe", "quadratic-blowup", "doctype-past-64k"])
def test_entity_declarations_are_refused_before_any_expansion(name: str) -> None:
    with pytest.raises(ParseError, match="refused"):
        parse(f"../hostile/feed-{name}.xml")


@pytest.mark.parametrize("name", ["../hostile/feed-malformed.xml", "not-a-feed.txt"])
def test_broken_documents_raise_one_parse_error(name: str) -> None:
    try:
        feed = parse(name)
    except ParseError as error:
        assert "feeds.example" in str(error)
    else:  # feedparser's forgiving mode may salvage a title from malformed XML
        assert feed.title


def _walk(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != "LICENSE" and p.suffix not in {".tsv", ".md"}
    )


@pytest.mark.parametrize("corpus", ["feedparser-tests", "real-feeds"])
def test_every_shared_feed_goes_through_without_an_unhandled_error(corpus: str) -> None:
    files = _walk(shared_data(corpus))
    parsed = refused = 0
    for path in files:
        try:
            parse_feed(path.read_bytes(), f"https://example.org/{path.name}")
            parsed += 1
        except ParseError:
            refused += 1
    assert parsed + refused == len(files)
    assert parsed > len(files) * 0.8, (parsed, refused)


@pytest.mark.parametrize(
    "encoding", ["utf-32", "utf-32-le", "utf-32-be", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_entity_declarations_in_wide_encodings_are_refused(encoding: str) -> None:
    document = (
        f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
        '<!DOCTYPE r [<!ENTITY a "b">]><rss version="2.0"><channel><title>&a;</title>'
        "</channel></rss>"
    ).encode(encoding)
    with pytest.raises(ParseError, match="refused"):
        parse_feed(document, "https://feeds.example/wide")


def test_a_feed_in_utf16_is_read() -> None:
    document = (FEEDS / "rss2.xml").read_text().replace('encoding="utf-8"', 'encoding="UTF-16"')
    feed = parse_feed(document.encode("utf-16"), "https://feeds.example/utf16")
    assert feed.entries[0].title == "Pasukan Korea Utara di Kursk"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("feed-utf7-entities.xml", "encoding 'utf-7' is refused"),
        ("feed-utf7-bom.xml", "UTF-7 is refused"),
        ("feed-iso2022-hidden-entity.xml", "entity declarations are refused"),
    ],
)
def test_encodings_that_hide_entity_declarations_are_refused(name: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_feed((DATA / "hostile" / name).read_bytes(), name)


@pytest.mark.parametrize(
    "encoding",
    ["undefined", "punycode", "idna", "cp037", "rot13", "unicode_escape", "hz", "no-such-encoding"],
)
def test_a_declared_encoding_that_is_not_ascii_compatible_is_refused(encoding: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        "<title>x</title></channel></rss>"
    )
    with pytest.raises(ParseError, match="is refused"):
        parse_feed(body.encode("ascii"), "x")


@pytest.mark.parametrize("encoding", ["windows-1251", "iso-8859-1", "shift_jis", "gb18030"])
def test_ascii_compatible_encodings_are_read(encoding: str) -> None:
    body = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        "<title>Новости</title><item><title>Пхеньян</title><link>https://x.example/1</link>"
        "</item></channel></rss>"
    )
    if encoding in ("iso-8859-1",):
        body = body.replace("Новости", "Nouvelles").replace("Пхеньян", "Pyongyang")
    feed = parse_feed(body.encode(encoding), "x")
    assert feed.entries[0].title in ("Пхеньян", "Pyongyang")


def test_items_sharing_one_guid_with_different_links_stay_apart() -> None:
    body = (DATA / "hostile" / "feed-guid-reuse.xml").read_bytes()
    entries = parse_feed(body, "https://reuse.example/feed").entries
    assert len({e.id for e in entries}) == 3
    assert [e.id for e in parse_feed(body, "https://reuse.example/feed").entries] == [
        e.id for e in entries
    ]  # stable across polls


def test_the_same_guid_and_link_is_one_entry_however_often_it_appears() -> None:
    item = (
        "<item><title>{}</title><link>https://a.example/1</link>"
        "<guid isPermaLink='false'>a-1</guid></item>"
    )
    body = (
        f"<rss version='2.0'><channel><title>t</title>{item.format('x')}{item.format('y')}"
        "</channel></rss>"
    )
    first, second = parse_feed(body.encode(), "https://a.example/feed").entries
    assert first.id == second.id


def test_an_item_without_a_date_is_not_dated_by_its_guid() -> None:
    """fastfeedparser reads a GUID such as "7-8" or "2024" as a date when the item states
    none: an invented date would make a new article look old (past max_age) or new."""
    items = (
        "<item><title>Undated</title><link>https://a.example/1</link>"
        "<guid isPermaLink='false'>7-8</guid></item>"
        "<item><title>Also undated</title><link>https://a.example/2</link>"
        "<guid isPermaLink='false'>2024</guid></item>"
        "<item><title>Dated</title><link>https://a.example/3</link><guid>3-4</guid>"
        "<pubDate>Tue, 12 Nov 2024 08:30:00 +0700</pubDate></item>"
        "<item><title>Dublin Core</title><link>https://a.example/4</link><guid>5-6</guid>"
        "<dc:date>2024-11-13T10:00:00Z</dc:date></item>"
    )
    body = (
        "<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>t"
        f"</title><lastBuildDate>Wed, 13 Nov 2024 12:00:00 GMT</lastBuildDate>{items}"
        "</channel></rss>"
    )
    entries = parse_feed(body.encode(), "https://a.example/feed").entries
    assert [e.published for e in entries] == [
        None,
        None,
        datetime(2024, 11, 12, 1, 30, tzinfo=UTC),
        datetime(2024, 11, 13, 10, 0, tzinfo=UTC),
    ]

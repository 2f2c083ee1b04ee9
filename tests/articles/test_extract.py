import unicodedata

import pytest

from tests.support import DATA, SEED
from worker.articles import extract, make_document, paragraphs_from_html
from worker.articles.extract import canonical_url, decode_html, extract_article
from worker.articles.normalise import is_boilerplate, to_schema_text

PAGES = DATA / "pages"


def document_from(name: str, url: str = "https://kabardunia.example/x"):
    html = decode_html((PAGES / name).read_bytes())
    return make_document(extract_article(html, url), source="kabardunia.example")


def test_the_seed_wrapped_in_a_news_page_comes_out_as_the_seed_without_line_7() -> None:
    lines = SEED.read_text(encoding="utf-8").split("\n")
    expected = "\n".join(line for number, line in enumerate(lines, 1) if number != 7)
    document = document_from("seed_wrapped.html")
    assert document is not None
    assert document.text.encode("utf-8") == expected.encode("utf-8")


def test_metadata_of_the_wrapped_seed() -> None:
    document = document_from("seed_wrapped.html")
    assert document is not None
    assert document.title == "NATO konfirmasi pasukan Korea Utara dikirim ke Rusia"
    assert document.canonical_url == (
        "https://kabardunia.example/internasional/2024/10/28/nato-konfirmasi-pasukan-korea-utara"
    )
    assert document.language == "id"
    assert document.published is not None and document.published.year == 2024
    assert len(document.id) == 16 and int(document.id, 16) >= 0


def test_schema_rules_hold() -> None:
    document = document_from("seed_wrapped.html")
    assert document is not None
    text = document.text
    assert not text.endswith("\n") and "\n\n" not in text and "\r" not in text
    assert unicodedata.is_normalized("NFC", text)
    assert all(line == line.strip() and "  " not in line for line in text.split("\n"))


def test_a_page_in_a_non_utf8_charset() -> None:
    document = document_from("windows-1251.html", "https://novosti.example/kndr")
    assert document is not None
    assert document.text.startswith("По данным разведки Южной Кореи")
    assert "Читайте также" not in document.text
    assert document.language == "ru"


def test_a_page_with_no_article_gives_no_document() -> None:
    assert document_from("no-article.html") is None


def test_the_feed_content_is_the_fallback_when_the_page_has_too_little() -> None:
    feed_html = "<p>Korea Utara mengirim 12.000 tentara ke Rusia, kata Seoul.</p>" * 3
    document = make_document(
        None,
        source="x",
        fallback_html=feed_html,
        url="https://x.example/a?utm_source=rss",
        fallback_title="T",
    )
    assert document is not None
    assert document.text.count("\n") == 2
    assert document.canonical_url == "https://x.example/a"


@pytest.mark.parametrize(
    "line",
    [
        "Lebih lanjut tentang pasukan Korea Utara",
        "Baca juga: Rusia kerahkan rudal",
        "Read more: How North Korea's army compares",
        "See also:",
        "Lesen Sie auch: Kim in Moskau",
        "Lire aussi : la Corée du Nord",
        "Читайте также: Как устроена армия КНДР",
        "ADVERTISEMENT",
        "By John Smith",
        "Oleh: Redaksi Kabar Dunia",
        "Foto: Reuters",
        "Subscribe to our newsletter",
        "We use cookies to improve your experience",
    ],
)
def test_boilerplate_lines_are_cut(line: str) -> None:
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Pasukan Rusia belum mampu mengusir mereka.",
        "Rutte mengatakan Putin “tidak dapat melanjutkan serangannya terhadap Ukraina” tanpa dukungan asing.",
        "By the end of the year, more troops could arrive, officials said in a lengthy briefing.",
        "Sebuah foto buram yang diduga diambil di dekat kota utama Pokrovsk menunjukkan dua bendera.",
    ],
)
def test_article_sentences_are_kept(line: str) -> None:
    assert not is_boilerplate(line)


def test_normalisation_collapses_whitespace_and_composes_characters() -> None:
    text = to_schema_text(["  Caf\u0065\u0301  in\u00a0 Moskow \t", "", "Second\nThird "], "Title")
    assert text == "Café in Moskow\nSecond\nThird"


def test_every_unicode_space_is_one_space_and_other_characters_stay() -> None:
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace() and chr(c) != "\n"]
    line = "".join(f"w{i}{space}{space}" for i, space in enumerate(spaces))
    words = " ".join(f"w{i}" for i in range(len(spaces)))
    assert to_schema_text([f"\u3000{line}\u00a0"]) == words
    # Not spaces: a zero-width space and a word joiner are part of the word.
    assert to_schema_text(["a\u200bb \u2060c"]) == "a\u200bb \u2060c"


def test_the_headline_is_not_part_of_the_body() -> None:
    assert to_schema_text(["Big News Today", "Body line."], "Big news today") == "Body line."


def test_lines_recurring_across_a_source_are_dropped() -> None:
    recurring = {"Ikuti saluran WhatsApp Kabar Dunia untuk berita terkini"}
    text = to_schema_text(["Body.", *recurring], recurring=lambda line: line in recurring)
    assert text == "Body."


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://Example.org/a?utm_source=x&id=3&fbclid=y#top", "https://example.org/a?id=3"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org", "https://example.org/"),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_feed_html_paragraphs_skip_captions_and_scripts() -> None:
    html = (
        "<div><p>One.</p><figure><img src=x><figcaption>Caption</figcaption></figure>"
        "<script>alert(1)</script><p>Two.</p></div>"
    )
    assert paragraphs_from_html(html) == ["One.", "Two."]


@pytest.mark.parametrize(
    "charset", ["undefined", "punycode", "utf-7", "idna", "cp500", "base64", "no-such-charset"]
)
def test_a_page_declaring_an_unreadable_charset_is_read_as_utf8(charset: str) -> None:
    body = "<p>Café +ADw-script+AD4- 12.000 tentara</p>".encode()
    for content_type, page in (
        (f"text/html; charset={charset}", body),
        ("text/html", f'<meta charset="{charset}">'.encode() + body),
    ):
        assert decode_html(page, content_type).endswith(
            "<p>Café +ADw-script+AD4- 12.000 tentara</p>"
        )


PAGE_FILES = [*sorted(PAGES.glob("*.html")), *sorted((DATA / "hostile").glob("page-*.html"))]


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda page: page.name)
def test_the_extraction_on_the_parsed_tree_is_trafilaturas_bare_extraction(
    page, monkeypatch: pytest.MonkeyPatch
) -> None:
    # newswatch runs trafilatura's cascade on its own tree, not on the copy that
    # bare_extraction makes; the article must be the one bare_extraction gives.
    html = decode_html(page.read_bytes())
    url = "https://kabardunia.example/x"
    direct = extract_article(html, url)
    monkeypatch.setattr(extract, "_trafilatura_sequence", lambda: None)
    assert extract_article(html, url) == direct

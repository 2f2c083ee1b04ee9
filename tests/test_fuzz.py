"""Property-based fuzzing of the parsers: whatever bytes arrive, each parser either
returns its typed result or raises its own one error; nothing else escapes."""

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import DATA
from worker.articles import make_document
from worker.articles.extract import decode_html, extract_article
from worker.errors import ParseError
from worker.feeds.parse import parse_feed
from worker.signals.figures import observe_figures

FEEDS = [
    p.read_bytes()
    for folder in ("feeds", "hostile")
    for p in sorted((DATA / folder).iterdir())
    if p.suffix in (".xml", ".json", ".txt") and p.stat().st_size < 5000
]


def mutate(data: bytes, positions: list[int], replacement: bytes) -> bytes:
    out = bytearray(data)
    for position in positions:
        index = position % max(1, len(out))
        out[index : index + 1] = replacement
    return bytes(out)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FEEDS), st.lists(st.integers(0, 10_000), max_size=8), st.binary(max_size=6))
def test_mutated_feeds_parse_or_raise_parse_error(
    feed: bytes, positions: list[int], replacement: bytes
) -> None:
    try:
        parsed = parse_feed(mutate(feed, positions, replacement), "https://fuzz.example/f")
    except ParseError:
        return
    for entry in parsed.entries:
        assert isinstance(entry.title, str) and len(entry.id) == 24


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_raise_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_feed(data, "https://fuzz.example/f")


HTML_PIECES = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<article>",
        "<script>",
        "</script>",
        "<h1>",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "Korea Utara",
        "10.000 tentara",
        "\x00",
        "\u202e",
        '<meta charset="shift_jis">',
        "<br>",
        "<table><tr><td>",
        "\n",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(HTML_PIECES, st.text(max_size=40)), max_size=60))
def test_random_html_extracts_or_gives_no_document(pieces: list[str]) -> None:
    html = "".join(pieces)
    article = extract_article(
        decode_html(html.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()),
        "https://fuzz.example/a",
    )
    document = make_document(article, source="fuzz")
    if document is not None:
        assert "\n\n" not in document.text and not document.text.endswith("\n")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_figures_never_crash_on_arbitrary_text(text: str) -> None:
    from tests.signals.test_seed import ENV, ROOT
    from worker.config import load_config

    topic = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]
    for observation in observe_figures(text, "id", topic):
        assert observation.value >= 0

"""Article paragraphs → the seed schema's text (SPEC §1).

One paragraph per line, NFC, whitespace collapsed, no blank lines, no trailing newline;
headline, bylines, captions, "Read more" / "Baca juga" / "Lebih lanjut tentang…" lines and
newsletter or cookie text are cut, in any of the languages listed below.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

# Lines that only point elsewhere: related-link headings and calls to action.
_LINK_LINE = re.compile(
    r"^\W*("
    # Indonesian / Malay
    r"baca (juga|selengkapnya|berita)|simak (juga|berita|video)|lihat (juga|video)|"
    r"lebih lanjut tentang|berita terkait|artikel terkait|tonton (juga|video)|"
    r"ikuti (kami|berita)|dapatkan (berita|update)|"
    # English
    r"read (more|also|next|the full)|see also|related( articles?| stories| coverage)?\s*:|"
    r"more (on|about|from|stories)\b|recommended( for you)?\s*:?$|watch:|listen:|"
    r"click here|sign up|subscribe|follow us|share (this|on)|advertisement$|"
    r"(this|our) (newsletter|site uses cookies)|we use cookies|accept (all )?cookies|"
    # German, French, Spanish, Portuguese, Italian, Russian
    r"lesen sie (auch|mehr)|mehr zum thema|weiterlesen|anzeige$|"
    r"lire (aussi|la suite)|à lire aussi|voir aussi|"
    r"lea (también|más)|leer más|te puede interesar|ver también|"
    r"leia (também|mais)|saiba mais|"
    r"leggi (anche|tutto)|"
    r"читайте (также|далее)|подробнее"
    r")",
    re.IGNORECASE,
)
# Bylines, datelines, photo credits and captions.
_BYLINE = re.compile(
    r"^\W*((by|oleh|von|par|por|автор)\s*:?\s+\S+(\s+\S+){0,4}\W*$|"
    r"(reporter|penulis|editor|redaktur|pewarta|fotografer|author|photo|foto|image|"
    r"bild|crédit|credit|fuente|source)\s*:)",
    re.IGNORECASE,
)
_CAPTION = re.compile(
    r"\((foto|photo|image|gambar|getty|reuters|afp|ap)\b[^)]*\)\s*$", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?…:;”\"’»)\]]$")


def clean_line(line: str) -> str:
    """NFC with internal whitespace collapsed to single spaces."""
    # str.split() cuts at the characters `\s` matches (str.isspace, all 29 of them), so
    # this is `\s+` replaced by one space, then stripped, at a fifth of a regex's cost.
    return " ".join(unicodedata.normalize("NFC", line).split())


def is_boilerplate(line: str, title: str = "") -> bool:
    """True for a line that is not part of the article body."""
    return _is_boilerplate(line, _title_key(title))


def _title_key(title: str) -> str | None:
    return clean_line(title).casefold() if title else None


def _is_boilerplate(line: str, title_key: str | None) -> bool:
    """`is_boilerplate` with the title cleaned and casefolded once per document."""
    if title_key is not None and line.casefold() == title_key:
        return True
    if _LINK_LINE.match(line):
        # A long sentence that happens to start "Read more…" is still prose.
        return len(line.split()) <= 14 or not _SENTENCE_END.search(line)
    if _BYLINE.match(line) and len(line.split()) <= 8:
        return True
    return bool(_CAPTION.search(line) and len(line.split()) <= 25)


def to_schema_text(
    paragraphs: Iterable[str], title: str = "", recurring: Callable[[str], bool] | None = None
) -> str:
    """The document text exactly as the seeds are written.

    `recurring` says whether a line recurs across many documents of the same source
    (boilerplate that no pattern names); such lines are dropped too.
    """
    lines = []
    title_key = _title_key(title)
    for paragraph in paragraphs:
        for raw in paragraph.split("\n"):
            line = clean_line(raw)
            if not line or _is_boilerplate(line, title_key):
                continue
            if recurring is not None and recurring(line):
                continue
            lines.append(line)
    return "\n".join(lines)

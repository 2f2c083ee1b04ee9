"""Which declared character encodings newswatch reads, for feeds and pages alike.

A byte scan for markup (`<!ENTITY`, `<meta charset>`) is only sound when the document's
encoding writes ASCII as ASCII. UTF-7 does not (`+ADw-` is `<`), nor do EBCDIC, punycode
or Python's `undefined` codec, and a declared encoding is chosen by whoever wrote the
document: those are refused. UTF-16 and UTF-32 are read by decoding them first.
"""

from __future__ import annotations

import codecs

WIDE = frozenset({"utf-16", "utf-16-be", "utf-16-le", "utf-32", "utf-32-be", "utf-32-le"})
# Every printable ASCII character, the escapes that would turn ASCII into something
# else in an escape codec (`\x41` is "A" in unicode_escape), and a label the `idna`
# codec would turn into other letters.
_PROBE = bytes(c for c in range(0x20, 0x7F) if c != 0x5C) + b"\t\n\r\\x41\\u0041.xn--ls8h"


def readable_encoding(declared: str) -> str | None:
    """The codec for a declared encoding, or None when newswatch will not read it."""
    try:
        info = codecs.lookup(declared.strip())
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # rot13, base64, zlib…
        return None
    if info.name in WIDE:
        return info.name
    try:
        same = _PROBE.decode(info.name) == _PROBE.decode("ascii")
    except (UnicodeError, ValueError):  # `undefined` refuses everything
        return None
    return info.name if same else None

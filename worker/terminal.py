"""Text from articles and servers made safe to print on an operator's terminal.

A title or quote can carry ESC sequences (retitle the window, rewrite the screen, hide
lines), a carriage return that overwrites what was printed, or bidi overrides that show
text in another order than it is. Each is shown escaped (`\\x1b`), never sent.
"""

from __future__ import annotations

import logging
import re

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the
# invisible bidi controls and separators of Unicode.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character shown as an escape instead of acted on."""
    return _UNSAFE.sub(_escaped, text)


class PrintableLogs(logging.Filter):
    """A handler filter escaping control characters in log messages (URLs, titles and
    server replies are logged), before any formatter adds its own colours."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = printable(message)
        if safe != message:
            record.msg, record.args = safe, ()
        return True


def guard_handlers(logger: logging.Logger) -> None:
    """Add `PrintableLogs` to every handler of `logger` (once)."""
    for handler in logger.handlers:
        if not any(isinstance(f, PrintableLogs) for f in handler.filters):
            handler.addFilter(PrintableLogs())

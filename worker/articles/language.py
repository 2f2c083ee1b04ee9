"""Language of a document, detected from its text (py3langid, 97 languages)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_MIN_CHARACTERS = 40


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import _load_identifier

    return _load_identifier(norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of `text`; `hint` (page or feed language) wins on short or unclear text."""
    hint = hint.split("-")[0].split("_")[0].lower() if hint else None
    if len(text) < _MIN_CHARACTERS:
        return hint
    language, probability = _identifier().classify(text[:5000])
    if probability < 0.5 and hint:
        return hint
    return str(language)

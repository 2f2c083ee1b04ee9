"""Language of a document, detected from its text (py3langid, 97 languages)."""

from __future__ import annotations

import logging
import mmap
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_MIN_CHARACTERS = 40
# The text read to decide: py3langid walks it byte by byte in Python, and an article's
# language is settled long before 5,000 characters. Any 1,500 characters of the 181
# benchmark pages' texts (862 windows) decide as their first 5,000 do, and so do the
# first 1,500 of the tests' figure and emerging-name passages; 1,000 took one window (a
# list of tour dates) for Nigerian Pidgin.
SAMPLE_CHARACTERS = 1500


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import LanguageIdentifier, _load_identifier

    try:
        ptc, pc, classes, nextmove, row, output, rowbase = _mapped_model()
    except (OSError, ValueError) as error:  # no writable cache, or a damaged copy in it
        log.warning("language model read into memory, not mapped from a cache: %s", error)
        return _load_identifier(norm_probs=True)
    walking = hasattr(LanguageIdentifier, "_raw_score") and hasattr(LanguageIdentifier, "_rowbase")
    kind = _walking_identifier() if walking else LanguageIdentifier
    identifier = kind(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)
    if hasattr(identifier, "_rowbase"):
        # Its row offsets as one flat array, not a list of 104,583 int objects: a look-up
        # then writes no reference count into pages a prefork child shares.
        identifier._rowbase = rowbase
    return identifier


@lru_cache(maxsize=1)
def _walking_identifier() -> Any:
    """py3langid's identifier with its byte automaton walked by numpy, a step for every
    position at once, instead of by a Python loop over the text's bytes: the same
    features, counted in the same order and scored as py3langid does, so the same scores."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    class WalkingIdentifier(LanguageIdentifier):  # type: ignore[misc]
        __slots__ = ()

        def _raw_score(self, text: bytes) -> Any:
            visits = _visits(
                np.asarray(self.tk_nextmove),
                np.asarray(self._rowbase),
                np.asarray(self.tk_output),
                text,
            )
            if visits is None:
                return super()._raw_score(text)  # py3langid's score of no feature
            features, counts = visits
            # py3langid's sparse score, its rows taken (a copy, as indexing makes) faster.
            rows = self.nb_ptc.take(features, axis=0)
            return np.log1p(counts.astype(np.float32)) @ rows + self.nb_pc

    return WalkingIdentifier


def _visits(nextmove: Any, rowbase: Any, output: Any, text: bytes) -> tuple[Any, Any] | None:
    """The automaton's features in `text` and how often each occurs, in the order of their
    first occurrence, as py3langid counts them (its score's sum follows that order);
    None when there is none.

    The state after byte j is the one reached from the start by the bytes up to j. If
    `states[j]` is the state reached by the last k bytes up to j, stepping from
    `states[j - 1]` with byte j gives the one reached by the last k + 1. Where a step
    changes nothing at j - 1, the next changes nothing at j: only the positions after a
    change are stepped again, until none changes (after as many steps as the longest
    feature has bytes, 6 in py3langid's model; any automaton ends so, by the text's
    length at most)."""
    import numpy as np

    letters = np.frombuffer(text, dtype=np.uint8)
    if not len(letters):
        return None
    states = nextmove[rowbase[0] + letters]
    stepped = np.arange(1, len(letters))
    while len(stepped):
        reached = nextmove[rowbase[states[stepped - 1]] + letters[stepped]]
        changed = stepped[reached != states[stepped]]
        states[stepped] = reached
        stepped = changed[changed < len(letters) - 1] + 1
    features = output[states]
    features = features[features >= 0]
    if not len(features):
        return None
    found, first, counts = np.unique(features, return_index=True, return_counts=True)
    order = np.argsort(first)
    return found[order], counts[order]


def _mapped_model() -> tuple[Any, ...]:
    """py3langid's model with its two large tables (66 of its 72 MB: the byte automaton's
    transitions and the per-feature weights) mapped from an uncompressed copy on disk
    instead of decompressed into each process: a page is resident once text has reached
    it (clean page cache, shared by every process and reclaimable), and a process starts
    in 0.1 s instead of decompressing 72 MB. The automaton's small tables are flat arrays
    (memoryviews), not lists of int objects."""
    from importlib.metadata import version

    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE

    packed = MODEL_DIR / MODEL_FILE
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newswatch"
    folder = base / f"py3langid-{version('py3langid')}-{packed.stat().st_size}"
    if not (folder / "small.npz").is_file():
        _unpack(packed, folder)
    ptc = _map_sparsely(folder / "ptc.npy")
    nextmove = _map_sparsely(folder / "nextmove.npy")
    with np.load(folder / "small.npz") as small:
        row = small["row"]
        return (
            ptc,
            small["pc"],
            small["classes"].tolist(),
            memoryview(nextmove),
            memoryview(row),
            memoryview(small["output"]),
            memoryview(row.astype(np.uint32) << 8),
        )


def _map_sparsely(path: Path) -> Any:
    """The array in `path` mapped so that a page is read, cached and mapped only once text
    reaches it. A text touches a few thousand of the tables' 16,000 pages, scattered; but
    a file read or written whole sits in the page cache in large folios (up to 2 MB each
    on ext4 and XFS), and a fault maps the whole folio: one look-up then made 600 KB
    resident on average, and ~37 MB of the tables were mapped in a prefork worker where
    its texts needed ~4 MB. So the file's cached pages that no process maps are dropped
    (a worker already running keeps its own), and the mapping asks for no read-ahead
    (MADV_RANDOM): a fault then reads one 4 KB page."""
    import numpy as np

    if hasattr(os, "posix_fadvise"):  # Linux; elsewhere the file is mapped as it is
        with path.open("rb") as file:
            os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    array = np.load(path, mmap_mode="r")
    if hasattr(mmap, "MADV_RANDOM"):
        array.base.madvise(mmap.MADV_RANDOM)
    return array


def _unpack(packed: Path, folder: Path) -> None:
    """Write the model's arrays uncompressed into `folder` (whole or not at all)."""
    import numpy as np
    from py3langid.modelio import load_model

    ptc, pc, classes, nextmove, row, output = load_model(packed)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=folder.parent))
    try:
        np.save(staging / "ptc.npy", ptc)
        np.save(staging / "nextmove.npy", np.frombuffer(nextmove, dtype=np.uint32))
        np.savez(
            staging / "small.npz",
            pc=pc,
            classes=np.array(classes),
            row=np.frombuffer(row, dtype=np.uint16),
            output=np.array(output, dtype=np.int32),
        )
        for written in staging.iterdir():
            # On disk before the rename makes the copy visible (a crash leaves it whole
            # or absent), and clean: cached pages can be dropped only once written.
            with written.open("rb") as file:
                os.fsync(file.fileno())
        try:
            staging.rename(folder)
        except OSError:
            if not (folder / "small.npz").is_file():  # not another process's copy: a failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of `text`; `hint` (page or feed language) wins on short or unclear text."""
    hint = hint.split("-")[0].split("_")[0].lower() if hint else None
    if len(text) < _MIN_CHARACTERS:
        return hint
    language, probability = _identifier().classify(text[:SAMPLE_CHARACTERS])
    if probability < 0.5 and hint:
        return hint
    return str(language)

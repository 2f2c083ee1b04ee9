"""The corpus folder: `NNN_<id>.txt` files and the append-only `manifest.jsonl` (SPEC §1).

Files are written to a temporary name, fsynced and renamed, so a reader never sees a torn
document; manifest lines are appended under an exclusive lock with one write and fsync.
The folder and its manifest are the durable record every Redis index is rebuilt from.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)
DOCUMENT_NAME = re.compile(r"^(\d{3,})_([0-9a-f]{16})\.txt$")
MANIFEST = "manifest.jsonl"
DRAFT_NAME = re.compile(r"^\.tmp-[0-9a-f]{32}\.draft$")
# How much of the manifest's end `Corpus.recent_lines` reads (bytes): a few hundred lines.
RECENT_BYTES = 256 * 1024


def document_id(canonical_url: str) -> str:
    """16 hex digits, stable for the article's canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_name(sequence: int, doc_id: str) -> str:
    return f"{sequence:03d}_{doc_id}.txt"


@dataclass(frozen=True)
class HeldDocument:
    """What a topic's index keeps about a document it holds, in its seeds or its corpus."""

    file: str
    sha256: str
    url: str
    title: str
    source: str
    folder: Literal["seeds", "corpus"] = "corpus"
    revision: int = 0
    published: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> HeldDocument:
        data = json.loads(raw)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ManifestRecord:
    """One line of `manifest.jsonl`: a document, a revision of one, or a copy."""

    file: str | None
    id: str
    url: str
    canonical_url: str
    title: str
    source: str
    feed: str | None
    published: str | None
    fetched: str
    language: str | None
    sha256: str
    duplicate_of: str | None = None
    revision: int = 0
    similarity: float | None = None
    date_source: str | None = None  # where `published` came from: feed | page

    def to_json(self) -> str:
        fields = asdict(self)
        for optional in ("duplicate_of", "similarity", "revision", "date_source"):
            if not fields[optional]:
                fields.pop(optional)
        return json.dumps(fields, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> ManifestRecord:
        data: dict[str, Any] = json.loads(line)
        known: dict[str, Any] = {k: data.get(k) for k in cls.__dataclass_fields__}
        known["revision"] = known.get("revision") or 0
        return cls(**known)


@dataclass(frozen=True)
class StoredDocument:
    """A document file found in a corpus or seeds folder."""

    path: Path
    sequence: int
    id: str

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass
class Draft:
    """A document's text on disk under a temporary name (`Corpus.draft`)."""

    path: Path
    placed: bool = False


class Corpus:
    """One topic's corpus folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST

    def write_document(self, name: str, text: str) -> Path:
        """Write (or rewrite) a document atomically: temporary file, fsync, rename."""
        return self.place(self.draft(text), name)

    def draft(self, text: str) -> Draft:
        """A document's text written and flushed to disk under a temporary name, before it
        has a name of its own (`place`): the slow half of a write, done before the topic's
        lock is taken. A draft not placed is `discard`ed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Created 0644 less the umask, as the manifest is (not mkstemp's 0600): people
        # read the corpus too, not only the worker's own user.
        # Not a `.txt` name: people and tools count a folder's documents by that suffix,
        # and a draft lasts as long as its topic's lock is waited for.
        temporary = self.directory / f".tmp-{uuid.uuid4().hex}.draft"  # DRAFT_NAME
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(text.encode("utf-8"))
                stream.flush()
                os.fsync(stream.fileno())
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return Draft(temporary)

    def place(self, draft: Draft, name: str) -> Path:
        """Give a draft its name (replacing a document's earlier text), durably: a rename,
        then the folder flushed, so a manifest line written after it never names a file a
        crash could lose. A draft is placed once."""
        target = self.directory / name
        try:
            os.replace(draft.path, target)
        except BaseException:
            self.discard(draft)
            raise
        draft.placed = True
        _fsync_directory(self.directory)
        return target

    def discard(self, draft: Draft) -> None:
        if not draft.placed:
            draft.path.unlink(missing_ok=True)

    @contextmanager
    def drafted(self, text: str) -> Iterator[Draft]:
        """A draft of `text` (`draft`), discarded on the way out unless it was placed."""
        draft = self.draft(text)
        try:
            yield draft
        finally:
            self.discard(draft)

    def sweep_drafts(self, older_than: float) -> list[str]:
        """Remove the drafts last written more than `older_than` seconds ago, left by a
        worker stopped (killed, its machine lost) between writing a draft and placing it
        or discarding it; returns their names. Each removal is logged."""
        removed = []
        now = time.time()
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return []
        for entry in entries:
            if not DRAFT_NAME.match(entry.name):
                continue
            try:
                age = now - entry.stat().st_mtime
                if age <= older_than:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # placed or discarded meanwhile
            removed.append(entry.name)
            log.warning(
                "%s: removed draft %s, written %.1f h ago and never placed (its worker "
                "stopped before it could)",
                self.directory,
                entry.name,
                age / 3600,
            )
        return removed

    def read_document(self, name: str) -> str | None:
        path = self.directory / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    def restore_document(self, name: str, text: str | None) -> None:
        """Put a document back as it was before a write whose manifest line failed (None:
        it did not exist); a failure here is logged, the caller's error is what counts."""
        try:
            if text is None:
                (self.directory / name).unlink(missing_ok=True)
            else:
                self.write_document(name, text)
        except OSError as error:
            log.error("%s could not be restored after a failed write: %s", name, error)

    def append(self, record: ManifestRecord) -> None:
        """Append one manifest line durably; concurrent writers never interleave.

        A write that fails (ENOSPC, EIO) raises and leaves no part of the line behind, so
        the entry is retried and the next line starts clean.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        line = (record.to_json() + "\n").encode("utf-8")
        fd = os.open(self.manifest_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.lseek(fd, 0, os.SEEK_END)
            if start and os.pread(fd, 1, start - 1) != b"\n":
                # A writer killed mid-line left a torn tail: end it, so it stays one line
                # that readers skip instead of swallowing this one.
                line = b"\n" + line
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError:
                _cut_back(fd, start)
                raise
        finally:
            os.close(fd)

    def records(self) -> Iterator[ManifestRecord]:
        """Every manifest line in order; a torn line (a crash or a full disk mid-write) is
        skipped with a warning naming it."""
        if not self.manifest_path.exists():
            return
        with self.manifest_path.open(encoding="utf-8", errors="replace") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    if not line.endswith("\n"):
                        raise ValueError("no end of line")
                    yield ManifestRecord.from_json(line)
                except _UNREADABLE as error:
                    # A torn line that an older writer joined to the next whole one: the
                    # whole one is still there, after the fragment.
                    salvaged = _last_record(line)
                    log.warning(
                        "%s: line %d is torn (%s); %s",
                        self.manifest_path,
                        number,
                        error,
                        "its last record kept" if salvaged else "skipped",
                    )
                    if salvaged is not None:
                        yield salvaged

    def recent_lines(self, size: int = RECENT_BYTES) -> list[str]:
        """The manifest's last whole lines (in its last `size` bytes), unparsed: the
        documents written most recently, which a Redis that lost its last second of writes
        (a crash under `appendfsync everysec`) may not know. One read, however long the
        manifest; callers parse only the lines they look for (`parse_record`)."""
        try:
            with self.manifest_path.open("rb") as stream:
                start = max(0, stream.seek(0, os.SEEK_END) - size)
                stream.seek(start)
                tail = stream.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        lines = tail.split("\n")[:-1]  # the last is empty, or a line being written
        return lines[1:] if start else lines  # the first may be cut

    def documents(self) -> list[StoredDocument]:
        return list_documents(self.directory)

    def max_sequence(self) -> int:
        return max((d.sequence for d in self.documents()), default=-1)


def list_documents(directory: Path | None) -> list[StoredDocument]:
    """The `NNN_<id>.txt` files of a folder, in sequence order."""
    if directory is None or not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if match := DOCUMENT_NAME.match(path.name):
            found.append(StoredDocument(path, int(match.group(1)), match.group(2)))
    return sorted(found, key=lambda d: d.sequence)


_UNREADABLE = (ValueError, TypeError, AttributeError)


def parse_record(line: str) -> ManifestRecord | None:
    """One manifest line's record; None for a torn one (which `Corpus.records` reports)."""
    try:
        return ManifestRecord.from_json(line)
    except _UNREADABLE:
        return None


def sequence_of(name: str) -> int:
    """The number of a document file, `NNN_<id>.txt`."""
    match = DOCUMENT_NAME.match(name)
    if match is None:
        raise ValueError(f"{name}: not a document file name")
    return int(match.group(1))


def _last_record(line: str) -> ManifestRecord | None:
    start = line.rfind('{"file"', 1)
    if start < 0 or not line.endswith("\n"):
        return None
    return parse_record(line[start:])


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _cut_back(fd: int, length: int) -> None:
    """Remove what a failed append wrote; if even that fails, say so (readers skip it)."""
    try:
        os.ftruncate(fd, length)
        os.fsync(fd)
    except OSError as error:
        log.error(
            "manifest could not be cut back to %d bytes after a failed write: %s", length, error
        )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

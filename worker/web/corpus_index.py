"""A full-text index of each topic's corpus (SQLite FTS5), kept current from the folders.

Built from what SPEC §1 makes durable, the `NNN_<id>.txt` files and `manifest.jsonl`, and
kept current incrementally: the manifest is append-only, so the index remembers how far
it has read and reads only the lines after; a folder whose modification time moved is
listed for files the manifest does not name (seeds, documents written before it). A
request costs two `stat` calls when nothing changed, never a scan of the files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from worker.articles.corpus import DOCUMENT_NAME, MANIFEST, ManifestRecord

log = logging.getLogger(__name__)

# Bumped when the tables change: an index of another version is built again.
SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (
    topic TEXT NOT NULL, folder TEXT NOT NULL, path TEXT NOT NULL,
    manifest_offset INTEGER NOT NULL DEFAULT 0, manifest_inode INTEGER NOT NULL DEFAULT 0,
    listed_mtime_ns INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic, folder)
);
CREATE TABLE IF NOT EXISTS documents (
    rowid INTEGER PRIMARY KEY,
    topic TEXT NOT NULL, id TEXT NOT NULL, file TEXT NOT NULL, sequence INTEGER NOT NULL,
    folder TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '', published TEXT, fetched TEXT, language TEXT,
    revision INTEGER NOT NULL DEFAULT 0, copies INTEGER NOT NULL DEFAULT 0,
    UNIQUE (topic, id)
);
CREATE INDEX IF NOT EXISTS documents_by_sequence ON documents (topic, sequence DESC);
CREATE TABLE IF NOT EXISTS manifest (
    topic TEXT NOT NULL, id TEXT NOT NULL, duplicate_of TEXT, line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS manifest_by_id ON manifest (topic, id);
CREATE INDEX IF NOT EXISTS manifest_by_original ON manifest (topic, duplicate_of);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_text USING fts5(
    topic, title, body, tokenize = 'unicode61 remove_diacritics 2'
);
"""
# Column lists are constants spliced into queries; every value is a bound parameter.
_COLUMNS = "rowid, id, file, sequence, folder, title, url, source, published, language, copies"
# Words of a query: letters and digits (any script); everything else separates them.
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class IndexedDocument:
    """A document as the index lists it (the manifest's latest line for it)."""

    id: str
    file: str
    sequence: int
    folder: str
    title: str
    url: str
    source: str
    published: str | None
    language: str | None
    copies: int
    snippet: str | None = None  # search hits: the matching passage, \x02…\x03 around words


@dataclass(frozen=True)
class DocumentPage:
    """One page of a topic's documents, or of the hits of a search."""

    total: int
    documents: list[IndexedDocument]


def match_expression(query: str) -> str | None:
    """An FTS5 expression from what a person types: every word must occur, each as a
    prefix (`Kursk` finds `Kursk's`, `북한` finds `북한군이`); operators are never parsed."""
    words = _WORD.findall(query)
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


def topic_token(topic: str) -> str:
    """The one word that names a topic in the full-text index. A topic is a term of the
    index, not a column compared row by row: counting the hits of a common word on
    10,000 documents took 57 ms filtered by column, under 1 ms as a term."""
    return "topic" + hashlib.blake2b(topic.encode("utf-8"), digest_size=8).hexdigest()


class CorpusIndex:
    """The index of every topic's corpus, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection shared by the server's threads, each use under the lock: reads
        # take well under a millisecond, and SQLite connections are not thread-safe.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                # Only an index: dropped and built again from the corpus folders.
                for table in ("folders", "documents", "manifest", "documents_text"):
                    self._db.execute(f"DROP TABLE IF EXISTS {table}")
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- keeping it current ------------------------------------------------------------
    def refresh(self, topic: str, corpus: Path, seeds: Path | None = None) -> int:
        """Index what was added to a topic's folders since the last call; returns how many
        documents were added or revised."""
        changed = self._refresh_folder(topic, "corpus", corpus)
        if seeds is not None:
            changed += self._refresh_folder(topic, "seeds", seeds)
        return changed

    def _refresh_folder(self, topic: str, folder: str, directory: Path) -> int:
        state = self._folder_state(topic, folder, directory)
        offset, inode, listed = state
        manifest = directory / MANIFEST
        changed = 0
        try:
            stat = manifest.stat()
        except FileNotFoundError:
            stat = None
        if stat is not None and inode and (stat.st_ino != inode or stat.st_size < offset):
            # A manifest replaced or cut short is not the one we read: start again.
            log.warning("%s: manifest replaced; indexing %s again", manifest, topic)
            self._forget(topic, folder)
            offset, listed = 0, 0
        if stat is not None and stat.st_size > offset:
            changed += self._read_manifest(topic, folder, directory, offset, stat.st_ino)
        try:
            mtime = directory.stat().st_mtime_ns
        except FileNotFoundError:
            return changed
        if mtime != listed:
            changed += self._index_unlisted(topic, folder, directory)
            with self._transaction() as db:
                db.execute(
                    "UPDATE folders SET listed_mtime_ns = ? WHERE topic = ? AND folder = ?",
                    (mtime, topic, folder),
                )
        return changed

    def _folder_state(self, topic: str, folder: str, directory: Path) -> tuple[int, int, int]:
        with self._lock:
            row = self._db.execute(
                "SELECT manifest_offset, manifest_inode, listed_mtime_ns, path FROM folders "
                "WHERE topic = ? AND folder = ?",
                (topic, folder),
            ).fetchone()
        if row is not None and row[3] == str(directory):
            return int(row[0]), int(row[1]), int(row[2])
        if row is not None:  # the topic's folder moved in the config
            self._forget(topic, folder)
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO folders (topic, folder, path) VALUES (?, ?, ?)",
                (topic, folder, str(directory)),
            )
        return 0, 0, 0

    def _forget(self, topic: str, folder: str) -> None:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT rowid FROM documents WHERE topic = ? AND folder = ?", (topic, folder)
            ).fetchall()
            db.executemany("DELETE FROM documents_text WHERE rowid = ?", rows)
            db.execute("DELETE FROM documents WHERE topic = ? AND folder = ?", (topic, folder))
            if folder == "corpus":
                db.execute("DELETE FROM manifest WHERE topic = ?", (topic,))
            db.execute(
                "UPDATE folders SET manifest_offset = 0, manifest_inode = 0, listed_mtime_ns = 0 "
                "WHERE topic = ? AND folder = ?",
                (topic, folder),
            )

    def _read_manifest(
        self, topic: str, folder: str, directory: Path, offset: int, inode: int
    ) -> int:
        with (directory / MANIFEST).open("rb") as stream:
            stream.seek(offset)
            chunk = stream.read()
        # Only whole lines: a line being appended right now is read on the next refresh.
        end = chunk.rfind(b"\n") + 1
        changed = 0
        with self._transaction() as db:
            for raw in chunk[:end].splitlines():
                line = raw.decode("utf-8", errors="replace")
                if not line.strip():
                    continue
                try:
                    record = ManifestRecord.from_json(line)
                except (ValueError, TypeError) as error:
                    log.warning("%s: manifest line skipped (%s)", directory / MANIFEST, error)
                    continue
                db.execute(
                    "INSERT INTO manifest (topic, id, duplicate_of, line) VALUES (?, ?, ?, ?)",
                    (topic, record.id, record.duplicate_of, line),
                )
                if record.duplicate_of:
                    db.execute(
                        "UPDATE documents SET copies = copies + 1 WHERE topic = ? AND id = ?",
                        (topic, record.duplicate_of),
                    )
                elif record.file:
                    changed += self._put(db, topic, folder, directory, record.file, record)
            db.execute(
                "UPDATE folders SET manifest_offset = ?, manifest_inode = ? "
                "WHERE topic = ? AND folder = ?",
                (offset + end, inode, topic, folder),
            )
        return changed

    def _index_unlisted(self, topic: str, folder: str, directory: Path) -> int:
        with self._lock:
            known = {
                row[0]
                for row in self._db.execute(
                    "SELECT file FROM documents WHERE topic = ? AND folder = ?", (topic, folder)
                )
            }
        names = [
            entry.name
            for entry in os.scandir(directory)
            if entry.name not in known and DOCUMENT_NAME.match(entry.name)
        ]
        if not names:
            return 0
        with self._transaction() as db:
            return sum(self._put(db, topic, folder, directory, name, None) for name in names)

    @staticmethod
    def _put(
        db: sqlite3.Connection,
        topic: str,
        folder: str,
        directory: Path,
        file: str,
        record: ManifestRecord | None,
    ) -> int:
        match = DOCUMENT_NAME.match(file)
        if match is None:
            return 0
        try:
            body = (directory / file).read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError) as error:
            log.warning("%s: not indexed (%s)", directory / file, error)
            return 0
        doc_id = match.group(2)
        fields = (
            record.title if record else "",
            record.url if record else "",
            record.source if record else folder,
            record.published if record else None,
            record.fetched if record else None,
            record.language if record else None,
            record.revision if record else 0,
        )
        row = db.execute(
            "SELECT rowid FROM documents WHERE topic = ? AND id = ?", (topic, doc_id)
        ).fetchone()
        if row is None:
            rowid = db.execute(
                "INSERT INTO documents (topic, id, file, sequence, folder, title, url, source, "
                "published, fetched, language, revision) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (topic, doc_id, file, int(match.group(1)), folder, *fields),
            ).lastrowid
        else:
            rowid = row[0]
            db.execute(
                "UPDATE documents SET title = ?, url = ?, source = ?, published = ?, "
                "fetched = ?, language = ?, revision = ? WHERE rowid = ?",
                (*fields, rowid),
            )
            db.execute("DELETE FROM documents_text WHERE rowid = ?", (rowid,))
        db.execute(
            "INSERT INTO documents_text (rowid, topic, title, body) VALUES (?, ?, ?, ?)",
            (rowid, topic_token(topic), fields[0], body),
        )
        return 1

    # -- reading -----------------------------------------------------------------------
    def documents(self, topic: str, limit: int = 50, offset: int = 0) -> DocumentPage:
        """A topic's documents, newest (highest sequence number) first."""
        with self._lock:
            total = self._db.execute(
                "SELECT count(*) FROM documents WHERE topic = ?", (topic,)
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE topic = ? "  # noqa: S608 (constant)
                "ORDER BY sequence DESC, folder LIMIT ? OFFSET ?",
                (topic, limit, offset),
            ).fetchall()
        return DocumentPage(int(total), [_document(row) for row in rows])

    def search(self, topic: str, query: str, limit: int = 50, offset: int = 0) -> DocumentPage:
        """A topic's documents matching every word of `query`, best first (BM25)."""
        expression = match_expression(query)
        if expression is None:
            return DocumentPage(0, [])
        # The full-text index drives every step, the topic a term of the match: joined
        # with `documents` first, SQLite would run the match once per document.
        expression = f'topic : "{topic_token(topic)}" AND {{title body}} : ({expression})'
        with self._lock:
            total = self._db.execute(
                "SELECT count(*) FROM documents_text WHERE documents_text MATCH ?", (expression,)
            ).fetchone()[0]
            # Ranked first, then snippets for the page's hits only (a snippet costs a
            # pass over the document's text).
            ranked = [
                row[0]
                for row in self._db.execute(
                    "SELECT rowid FROM documents_text WHERE documents_text MATCH ? "
                    "ORDER BY rank LIMIT ? OFFSET ?",
                    (expression, limit, offset),
                )
            ]
            marks = ", ".join("?" * len(ranked))
            snippets = dict(
                self._db.execute(
                    "SELECT rowid, snippet(documents_text, 2, '\x02', '\x03', '…', 24) "  # noqa: S608
                    f"FROM documents_text WHERE documents_text MATCH ? AND rowid IN ({marks})",
                    (expression, *ranked),
                ).fetchall()
            )
            rows = {
                row[0]: row
                for row in self._db.execute(
                    f"SELECT {_COLUMNS} FROM documents WHERE rowid IN ({marks})",  # noqa: S608
                    ranked,
                )
            }
        return DocumentPage(
            int(total), [_document(rows[r], snippets.get(r)) for r in ranked if r in rows]
        )

    def document(self, topic: str, doc_id: str) -> IndexedDocument | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM documents WHERE topic = ? AND id = ?",  # noqa: S608
                (topic, doc_id),
            ).fetchone()
        return None if row is None else _document(row)

    def manifest_lines(self, topic: str, doc_id: str) -> list[ManifestRecord]:
        """Every manifest line of a document: its writes, revisions and copies, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT line FROM manifest WHERE topic = ? AND (id = ? OR duplicate_of = ?) "
                "ORDER BY rowid",
                (topic, doc_id, doc_id),
            ).fetchall()
        return [ManifestRecord.from_json(row[0]) for row in rows]

    def count(self, topic: str) -> int:
        with self._lock:
            return int(
                self._db.execute(
                    "SELECT count(*) FROM documents WHERE topic = ?", (topic,)
                ).fetchone()[0]
            )


def _document(row: tuple[object, ...], snippet: str | None = None) -> IndexedDocument:
    _, doc_id, file, sequence, folder, title, url, source, published, language, copies = row
    return IndexedDocument(
        id=str(doc_id),
        file=str(file),
        sequence=int(str(sequence)),
        folder=str(folder),
        title=str(title),
        url=str(url),
        source=str(source),
        published=None if published is None else str(published),
        language=None if language is None else str(language),
        copies=int(str(copies)),
        snippet=snippet,
    )


def manifest_fields(record: ManifestRecord) -> dict[str, object]:
    """A manifest line's fields as written (what the document page shows)."""
    return dict(json.loads(record.to_json()))

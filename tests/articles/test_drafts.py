"""A document's text reaches the disk before its topic's lock is taken: the topic's other
workers wait on the naming and the manifest only, and what is flushed keeps its order
(text, then its name, then the manifest line, then Redis)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from tests.support import KYIV_TROOPS, write_config
from worker import pipeline
from worker.articles import Document
from worker.articles import corpus as corpus_module
from worker.config import load_config
from worker.store import keys as keyspace

TEXT = KYIV_TROOPS
TOPIC = "nk-troops-russia"


def document(doc_id: str, text: str = TEXT) -> Document:
    url = f"https://news.example/{doc_id}"
    return Document(doc_id, url, url, "Kyiv counts", text, None, "en", "news.example")


def test_only_the_name_and_manifest_are_flushed_under_the_lock(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    pipeline.process_document(rt, document("00000000000000a1"), [TOPIC], None)  # bootstrap
    flushed: list[tuple[str, bool]] = []  # what was flushed, and whether under the lock
    fsync = os.fsync

    def noting_fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        held = bool(rt.store.r.exists(keyspace.topic_lock(TOPIC)))
        flushed.append((Path(path).name if Path(path).is_file() else "folder", held))
        fsync(fd)

    monkeypatch.setattr(corpus_module.os, "fsync", noting_fsync)
    text = (
        "Seoul revises its estimate\n\n"
        "South Korea's spy agency told lawmakers on Friday that Pyongyang has sent another "
        "3,000 soldiers to Russia since January, bringing the total to about 14,000.\n"
    )
    result = pipeline.process_document(rt, document("00000000000000b2", text), [TOPIC], None)
    [outcome] = result.outcomes
    assert outcome.status == "new"
    [(draft, before)], under = flushed[:1], flushed[1:]
    assert draft.startswith(".tmp-") and not before
    assert under == [("folder", True), ("manifest.jsonl", True)]
    corpus = rt.config.corpus_dir(rt.config.topics[TOPIC])
    assert outcome.file is not None
    assert (corpus / outcome.file).read_text(encoding="utf-8") == text


def test_a_draft_not_needed_leaves_nothing_behind(tmp_path: Path, redis_url: str) -> None:
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    first = pipeline.process_document(rt, document("00000000000000a1"), [TOPIC], None)
    again = pipeline.process_document(rt, document("00000000000000a1"), [TOPIC], None)
    copy = pipeline.process_document(rt, document("00000000000000c3"), [TOPIC], None)
    assert [o.status for r in (first, again, copy) for o in r.outcomes] == [
        "new",
        "unchanged",
        "copy",
    ]
    corpus = rt.config.corpus_dir(rt.config.topics[TOPIC])
    assert sorted(p.name for p in corpus.iterdir() if p.name.startswith(".")) == []
    assert len([p for p in corpus.iterdir() if p.suffix == ".txt"]) == 1


def left_behind(corpus: Path, hours: float) -> Path:
    """A draft a worker wrote `hours` ago and never placed (it was stopped in between)."""
    draft = corpus_module.Corpus(corpus).draft(TEXT).path
    written = time.time() - hours * 3600
    os.utime(draft, (written, written))
    return draft


def test_drafts_a_stopped_worker_left_are_swept_once_no_task_can_place_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(write_config(tmp_path))
    corpus = config.corpus_dir(config.topics[TOPIC])
    corpus_module.Corpus(corpus).write_document("001_00000000000000a1.txt", TEXT)
    old = left_behind(corpus, hours=25)
    recent = left_behind(corpus, hours=2)  # past any task's time limit, but under a day
    (corpus / ".tmp-notes").write_text("someone's own file")
    with caplog.at_level(logging.WARNING, logger="worker.articles.corpus"):
        assert pipeline.sweep_drafts(config) == 1
    assert sorted(p.name for p in corpus.iterdir()) == sorted(
        [".tmp-notes", "001_00000000000000a1.txt", recent.name]
    )
    [removal] = [r.getMessage() for r in caplog.records]
    assert old.name in removal and "never placed" in removal


def test_drafts_are_kept_ten_task_time_limits_when_that_is_longer(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, service={"task_time_limit": "3h"}))
    corpus = config.corpus_dir(config.topics[TOPIC])
    kept = left_behind(corpus, hours=29)
    gone = left_behind(corpus, hours=31)
    assert pipeline.sweep_drafts(config) == 1
    assert kept.exists() and not gone.exists()

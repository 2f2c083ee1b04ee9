"""A process's runtime takes up edited config files, and only edited ones."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from tests.conftest import write_config
from worker import pipeline, tasks
from worker.config import Config, load_config


def test_a_runtime_handed_in_is_not_reloaded_until_a_file_changes(
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What `poll --once` and the demo do: their own runtime, then tasks sent from it."""
    monkeypatch.setattr(tasks, "_runtime", None)
    monkeypatch.setattr(tasks, "CONFIG_CHECK_EVERY", 0.0)
    config_dir = write_config(tmp_path)
    handed = pipeline.Runtime(load_config(config_dir), redis_url)
    tasks.use(handed)
    with caplog.at_level(logging.INFO, logger="worker.tasks"):
        assert tasks.runtime() is handed
        assert "config reloaded" not in caplog.text
        feeds = config_dir / "feeds.yaml"
        feeds.write_text(feeds.read_text() + "# an edit\n")
        assert tasks.runtime() is not handed
        assert "config reloaded" in caplog.text


def test_threads_taking_their_first_tasks_at_once_share_one_runtime(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poller's threads start on a burst of tasks together: the config is read and a
    runtime made once, not once by each thread."""
    monkeypatch.setattr(tasks, "_runtime", None)
    monkeypatch.setenv("NEWSWATCH_CONFIG_DIR", str(write_config(tmp_path)))
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    loads: list[Path | None] = []

    def load_and_count(directory: Path | None = None) -> Config:
        loads.append(directory)
        return load_config(directory)

    monkeypatch.setattr(tasks, "load_config", load_and_count)
    together = threading.Barrier(8)
    runtimes: list[pipeline.Runtime] = []

    def first_task() -> None:
        together.wait(timeout=60)
        runtimes.append(tasks.runtime())

    threads = [threading.Thread(target=first_task) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(runtimes) == 8
    assert len({id(rt) for rt in runtimes}) == 1
    assert len(loads) == 1


def test_a_prefork_worker_preloads_the_languages_its_corpora_hold_most(tmp_path: Path) -> None:
    """The languages whose words the pool's children share: those of the held documents,
    the most frequent first, at most as many as the lemmatiser keeps."""
    from worker.articles.corpus import Corpus, ManifestRecord

    config = load_config(write_config(tmp_path))
    assert pipeline.held_languages(config) == []  # an empty corpus: nothing to guess from
    corpus = Corpus(config.corpus_dir(next(iter(config.topics.values()))))
    corpus.directory.mkdir(parents=True, exist_ok=True)
    languages = (
        ["de"] * 3
        + ["ru"] * 2
        + ["en-GB"]
        + [None]
        + [code for code in ("fr", "es", "pt", "id", "uk", "cs", "it") for _ in range(2)]
    )
    for number, language in enumerate(languages):
        corpus.append(
            ManifestRecord(
                file=f"{number}.txt",
                id=str(number),
                url="",
                canonical_url="",
                title="",
                source="s",
                feed=None,
                published=None,
                fetched="2026-12-01T00:00:00Z",
                language=language,
                sha256="",
            )
        )
    held = pipeline.held_languages(config)
    assert held[:2] == ["de", "ru"]
    assert len(held) == pipeline.PRELOADED_LANGUAGES
    assert "en" not in held  # one document, below eight languages with two each


def test_a_pool_child_keeps_one_redis_connection_across_a_reload(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prefork child (one thread) sends every command on one kept connection; a
    poller's threads would queue on it, so a runtime made elsewhere takes from a pool."""
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config_dir = write_config(tmp_path)
    monkeypatch.setenv("NEWSWATCH_CONFIG_DIR", str(config_dir))
    monkeypatch.setattr(tasks, "CONFIG_CHECK_EVERY", 0.0)
    monkeypatch.setattr(tasks, "_runtime", None)
    assert tasks.runtime().store.r.connection is None  # pooled
    monkeypatch.setattr(tasks, "_runtime", None)
    monkeypatch.setattr(tasks, "_pool_child", True)
    kept = tasks.runtime()
    assert kept.store.r.connection is not None
    feeds = config_dir / "feeds.yaml"
    feeds.write_text(feeds.read_text() + "# an edit\n")
    reloaded = tasks.runtime()
    assert reloaded is not kept and reloaded.store.r.connection is not None

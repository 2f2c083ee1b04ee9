"""An entry's life in the store: staged until recorded, handed out again when its task is
lost or its retry has come, failed attempts retried on a growing delay, then parked."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from tests.support import write_config
from worker import pipeline
from worker.config import load_config
from worker.feeds import Entry


def runtime(folder: Path, redis_url: str) -> pipeline.Runtime:
    return pipeline.Runtime(load_config(write_config(folder)), redis_url)


ENTRY = Entry(
    id="e1", link="https://news.example/a", title="A", summary="", content="", published=None
)


def stage(rt: pipeline.Runtime, now: float) -> None:
    rt.store.stage_new_entries("f1", {"e1": '{"id": "e1"}'}, hand_off_by=now + rt.hand_off_lease)


def test_a_staged_entry_is_handed_out_again_until_its_processing_is_recorded(
    tmp_path: Path, redis_url: str
) -> None:
    rt = runtime(tmp_path, redis_url)
    now = time.time()
    stage(rt, now)
    lease = rt.hand_off_lease
    assert rt.store.claim_due("entries", now, lease) == []  # its poll hands it off
    later = now + lease + 1  # ... and the task is lost
    assert rt.store.claim_due("entries", later, lease) == ["f1|e1"]
    assert rt.store.staged_entries(["f1|e1"]) == [("f1", '{"id": "e1"}')]
    assert rt.store.claim_due("entries", later, lease) == []  # leased again
    rt.store.finish_entry("f1", "e1")
    assert rt.store.outbox("f1") == {}
    assert rt.store.claim_due("entries", later + 10 * lease, lease) == []


def test_failed_attempts_back_off_then_park_and_retry_brings_them_back(
    tmp_path: Path, redis_url: str
) -> None:
    rt = runtime(tmp_path, redis_url)
    now = time.time()
    stage(rt, now)
    delays = []
    for attempt in range(1, len(pipeline.ENTRY_RETRY_DELAYS) + 2):
        result = pipeline.entry_failed(rt, "f1", ENTRY, "UnicodeError: undefined encoding", now)
        failure = rt.store.failure("f1", "e1")
        assert failure is not None and failure.attempts == attempt
        assert failure.reason == "UnicodeError: undefined encoding"
        assert failure.link == ENTRY.link
        if failure.retry_at is not None:
            assert result.status == "retrying" and result.counts() == {"failed": 1}
            delays.append(failure.retry_at - now)
    assert delays == sorted(delays) and len(delays) == len(pipeline.ENTRY_RETRY_DELAYS)
    assert result.status == "parked"
    assert rt.store.claim_due("entries", now + 10**7, 60) == []  # parked: never due
    assert rt.store.outbox("f1")  # ... but not dropped
    [retried] = rt.store.retry_failures(now)
    assert retried.entry == "e1"
    assert rt.store.claim_due("entries", now, 60) == ["f1|e1"]
    assert rt.store.failures() == []


def test_an_event_saved_by_a_lost_task_is_routed_once_by_the_tick(
    tmp_path: Path, redis_url: str
) -> None:
    from tests.alerts.conftest import SECRET, figure_event

    config = load_config(
        write_config(
            tmp_path,
            channels={
                "hook": {"type": "webhook", "url": "https://hooks.example/x", "secret": SECRET}
            },
        )
    )
    rt = pipeline.Runtime(config, redis_url)
    event = figure_event()
    now = time.time()
    assert rt.store.save_event(event, route_within=60)  # ... and the task dies here
    assert rt.store.claim_due("routes", now, 60) == []
    [event_id] = rt.store.claim_due("routes", now + 61, 60)
    pipeline.route_unrouted(rt, event_id, now + 61)
    assert rt.store.delivery(event.id, "hook").state == "pending"
    assert rt.store.claim_due("deliveries", now + 61, 60) == [f"{event.id}|hook"]
    # Routed again (a second tick, a redelivered task): no second delivery is scheduled.
    pipeline.route_unrouted(rt, event_id, now + 100)
    assert rt.store.claim_due("deliveries", now + 100, 60) == []
    assert rt.store.claim_due("routes", now + 10**6, 60) == []


class Request:
    def __init__(self, task_id: str) -> None:
        self.id, self.retries = task_id, 0


class DeliveredTask:
    """What `_process_one` reads of the Celery task running it: its id and retry count."""

    max_retries = 10

    def __init__(self, task_id: str) -> None:
        self.request = Request(task_id)


def test_an_entry_whose_task_dies_holding_it_each_time_is_parked_not_retried_for_ever(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that kills its worker (hard time limit) every time: each hand-off after a
    death counts as a failed attempt, and after the last retry the entry is parked."""
    from worker import tasks

    rt = runtime(tmp_path, redis_url)
    tasks.use(rt)
    stage(rt, time.time())
    processed: list[str] = []

    def dies(*_: object, **__: object) -> pipeline.EntryResult:
        processed.append("attempt")
        raise SystemExit  # the worker is gone before the task records anything

    monkeypatch.setattr(pipeline, "process_entry", dies)
    outcomes = []
    for attempt in range(len(pipeline.ENTRY_RETRY_DELAYS) + 2):
        with contextlib.suppress(SystemExit):
            outcomes.append(
                tasks._process_one(
                    DeliveredTask(f"task-{attempt}"), rt, "f1", ENTRY, False, None, None
                )["status"]
            )
        # The hold ran out before the next hand-off (the claim's deadline passed).
        claim = rt.store.r.get("nw:entry:e1")
        if claim and claim != "done":
            rt.store.r.set("nw:entry:e1", claim.rsplit("|", 1)[0] + "|0")
    failure = rt.store.failure("f1", "e1")
    assert failure is not None and failure.retry_at is None  # parked
    assert failure.attempts == len(pipeline.ENTRY_RETRY_DELAYS) + 1
    assert "ended without a result" in failure.reason
    assert outcomes == ["parked"]  # the last hand-off no longer runs it
    assert len(processed) == len(pipeline.ENTRY_RETRY_DELAYS) + 1


def test_a_topic_lock_left_by_a_killed_task_blocks_no_longer_than_the_time_limit(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task killed (or cut off from Redis) under a topic's lock cannot release it; the
    lock must run out by the hard time limit, past which no holder can still be running,
    or every entry of the topic waits past its own soft limit."""
    from tests.support import distinct_page
    from worker.store import keys

    config = load_config(write_config(tmp_path, service={"task_time_limit": "20s"}))
    rt = pipeline.Runtime(config, redis_url)
    topic = next(iter(config.topics.values()))
    held: list[int] = []
    monkeypatch.setattr(
        pipeline,
        "bootstrap_topic",
        lambda rt_, topic_: held.append(rt_.store.r.pttl(keys.topic_lock(topic_.id))),
    )
    monkeypatch.setattr(pipeline, "is_relevant", lambda *_: True)
    document = pipeline.page_to_document(rt, distinct_page(1), "http://x.test/1", "x", learn=False)
    assert document is not None
    with contextlib.suppress(Exception):  # what follows the bootstrap is not under test
        pipeline.ingest_document(rt, topic, document, None, baseline=True)
    assert held and 0 < held[0] <= 20_000


def test_a_document_redis_forgot_in_a_crash_is_not_written_again(
    tmp_path: Path, redis_url: str
) -> None:
    """Redis SIGKILLed under `appendfsync everysec` loses its last second: the record of a
    document written then, and the counter's increment. The entry comes again; the file
    on disk is held again, and the next document gets the next free number."""
    from tests.support import distinct_page
    from worker.store import keys

    rt = runtime(tmp_path, redis_url)
    topic = next(iter(rt.config.topics.values()))

    def ingest(n: int) -> pipeline.IngestOutcome:
        document = pipeline.page_to_document(
            rt, distinct_page(n), f"http://x.test/{n}", "x", learn=False
        )
        assert document is not None
        return pipeline.ingest_document(rt, topic, document, None, baseline=True)

    first = ingest(1)
    assert first.status == "new"
    # The last second lost: the document's records and the counter's increment.
    r = rt.store.r
    r.delete(keys.documents(topic.id), keys.text_hashes(topic.id))
    r.decr(keys.sequence(topic.id))
    again = ingest(1)
    assert (again.status, again.file) == ("unchanged", first.file)
    second = ingest(2)
    assert second.status == "new" and second.file is not None and first.file is not None
    assert int(second.file[:3]) == int(first.file[:3]) + 1
    corpus = sorted(p.name for p in Path(rt.config.corpus_dir(topic)).glob("*.txt"))
    assert corpus == sorted([first.file, second.file])

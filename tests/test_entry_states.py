"""An entry's life in the store: staged until recorded, handed out again when its task is
lost or its retry has come, failed attempts retried on a growing delay, then parked."""

from __future__ import annotations

import time
from pathlib import Path

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

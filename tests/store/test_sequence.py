"""A topic's document numbers: from its counter, or past the disk's highest when the
counter is gone."""

from __future__ import annotations

import redis

from worker.store import Store


def test_the_disk_is_read_only_when_the_counter_is_missing(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    reads: list[int] = []

    def floor() -> int:
        reads.append(41)
        return 41

    assert store.next_sequence("t", floor) == 42
    assert store.next_sequence("t", floor) == 43
    assert reads == [41]
    store.r.flushall()  # Redis lost its data: numbers go on past the disk's
    assert store.next_sequence("t", floor) == 42
    assert reads == [41, 41]

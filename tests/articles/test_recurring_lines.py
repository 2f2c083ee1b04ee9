"""A source's line counter in Redis: boilerplate is recognised, and the counter stays small."""

import redis

from worker.store import Store


def test_boilerplate_stays_recognised_while_lines_seen_once_are_pruned(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True), lines_kept=50)
    boilerplate = ["Follow our channel for more news.", "© Kabar Dunia"]
    for number in range(40):
        article = [f"Line {number}-{line} of one article's own text." for line in range(6)]
        store.count_lines("kabar", [*article, *boilerplate])
        assert store.r.hlen("nw:lines:kabar") <= 50 + 8
    assert store.recurring_lines("kabar", boilerplate, 3) == set(boilerplate)
    assert store.recurring_lines("kabar", ["Line 39-0 of one article's own text."], 1) != set()

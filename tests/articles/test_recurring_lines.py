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


def test_a_counter_full_of_lines_seen_twice_still_learns_new_boilerplate(
    redis_url: str,
) -> None:
    """An article and its update share their lines: every line is counted twice. Pruning
    only lines seen once would leave the counter full of them, and each new line, counted
    once, would be pruned again at once: a source's new footer would never be learned."""
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True), lines_kept=50)
    footer = ["Follow our channel for more news."]
    sizes = []
    for number in range(300):
        story = number // 2  # documents 2k and 2k + 1 are one story and its update
        article = [f"Line {story}-{line} of one story's own text." for line in range(6)]
        store.count_lines("kabar", [*article, *footer])
        sizes.append(store.r.hlen("nw:lines:kabar"))
    assert max(sizes) <= 50 + 7
    assert store.recurring_lines("kabar", footer, 3) == set(footer)
    new_footer = ["Ikuti saluran WhatsApp Kabar Dunia."]  # the site changes its footer
    for number in range(300, 306):
        article = [f"Line {number}-{line} of a new story's own text." for line in range(6)]
        store.count_lines("kabar", [*article, *new_footer])
    assert store.recurring_lines("kabar", new_footer, 3) == set(new_footer)
    # ... and a source that stops publishing has its counter expire.
    assert 0 < store.r.ttl("nw:lines:kabar") <= 30 * 86400


def test_a_run_count_finished_after_it_expired_expires_again(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True))
    store.run_add("r1", 2)
    store.r.delete("nw:run:r1:pending")  # as if a day had passed
    store.run_done("r1")
    assert 0 < store.r.ttl("nw:run:r1:pending") <= 86400

from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

from tests.support import DATA
from worker.demo.servers import LoopbackServer
from worker.feeds import UNCONDITIONAL_EVERY, FeedState, Schedule, refresh
from worker.feeds.schedule import adaptive_interval, backoff_interval
from worker.net import FetchPolicy, make_client

POLICY = FetchPolicy(timeout=5, allow_private_networks=True)
SCHEDULE = Schedule(interval=900, minimum=60, maximum=86400)
RSS = (DATA / "feeds" / "rss2.xml").read_bytes()
NOW = 1_700_000_000.0


def poll(state: FeedState, now: float = NOW):
    with make_client(POLICY) as client:
        return refresh(state, client, POLICY, SCHEDULE, now)


def test_changed_then_not_modified(site: LoopbackServer) -> None:
    def answer(request: BaseHTTPRequestHandler):
        if request.headers.get("If-None-Match") == '"a"':
            return 304, {}, b""
        return 200, {"ETag": '"a"', "Content-Type": "application/rss+xml"}, RSS

    site.routes["/feed"] = answer
    first = poll(FeedState(url=f"{site.base}/feed"))
    assert first.status == "changed" and len(first.entries) == 2
    assert first.state.etag == '"a"' and first.state.last_success == NOW
    second = poll(first.state, NOW + 900)
    assert second.status == "not_modified" and second.entries == ()
    assert second.state.next_poll > NOW + 900


def test_same_bytes_without_validators_skip_parsing(site: LoopbackServer) -> None:
    site.serve("/feed", RSS, "application/rss+xml")
    first = poll(FeedState(url=f"{site.base}/feed"))
    second = poll(first.state)
    assert second.status == "unchanged_body" and second.entries == ()


def test_a_stuck_etag_is_bypassed_by_a_periodic_unconditional_fetch(site: LoopbackServer) -> None:
    bodies = [RSS]

    def answer(request: BaseHTTPRequestHandler):
        if request.headers.get("If-None-Match") == '"same"':
            return 304, {"ETag": '"same"'}, b""
        return 200, {"ETag": '"same"'}, bodies[-1]

    site.routes["/feed"] = answer
    state = poll(FeedState(url=f"{site.base}/feed")).state
    bodies.append(RSS.replace(b"kd-2", b"kd-3"))  # body changes, ETag does not
    statuses = []
    for _ in range(UNCONDITIONAL_EVERY):
        outcome = poll(state)
        statuses.append(outcome.status)
        state = outcome.state
    assert (
        statuses.count("changed") == 1 and statuses.count("not_modified") == UNCONDITIONAL_EVERY - 1
    )


def test_errors_back_off_exponentially_and_honour_retry_after(site: LoopbackServer) -> None:
    site.serve("/feed", b"busy", status=503, headers={"Retry-After": "7200"})
    outcome = poll(FeedState(url=f"{site.base}/feed"))
    assert outcome.status == "error" and "503" in (outcome.error or "")
    assert outcome.state.consecutive_errors == 1 and outcome.state.failing_since == NOW
    assert outcome.state.next_poll >= NOW + 7200
    site.serve("/feed", b"broken", status=500)
    delays = []
    state = outcome.state
    for _ in range(4):
        state = poll(state).state
        delays.append(state.next_poll - NOW)
    assert delays == sorted(delays) and delays[-1] > 4 * delays[0]
    assert state.consecutive_errors == 5 and state.failing_since == NOW


def test_a_broken_feed_is_recorded_and_recovers(site: LoopbackServer) -> None:
    site.serve("/feed", b"<rss><channel><title>x</title><item><title>", "application/rss+xml")
    site.serve("/feed", b"not xml at all {", "application/rss+xml")
    broken = poll(FeedState(url=f"{site.base}/feed"))
    assert broken.status == "error" and broken.state.last_error
    site.serve("/feed", RSS, "application/rss+xml")
    fixed = poll(broken.state)
    assert fixed.status == "changed" and fixed.state.consecutive_errors == 0
    assert fixed.state.failing_since is None and fixed.state.last_error is None


def test_permanent_redirect_updates_the_stored_url(site: LoopbackServer) -> None:
    site.serve("/old", b"", status=308, headers={"Location": "/new"})
    site.serve("/new", RSS, "application/rss+xml")
    outcome = poll(FeedState(url=f"{site.base}/old"))
    assert outcome.state.url == f"{site.base}/new"


def test_gone_retires_the_feed(site: LoopbackServer) -> None:
    site.serve("/feed", b"gone", status=410)
    outcome = poll(FeedState(url=f"{site.base}/feed"))
    assert outcome.status == "retired" and outcome.state.retired


def test_adaptive_interval_follows_the_publishing_rate_within_the_interval() -> None:
    start = datetime(2024, 11, 1, tzinfo=UTC)
    every_ten_minutes = [start + timedelta(minutes=10 * i) for i in range(10)]
    hourly = [start + timedelta(hours=i) for i in range(10)]
    weekly = [start + timedelta(days=7 * i) for i in range(5)]
    assert adaptive_interval(every_ten_minutes, SCHEDULE) == 300
    assert adaptive_interval(hourly, SCHEDULE) == 900  # half an hour, but 15m is the most
    assert adaptive_interval(weekly, SCHEDULE) == 900
    assert adaptive_interval([], SCHEDULE) == 900
    assert adaptive_interval([start] * 5, SCHEDULE) == 900


def test_an_interval_shorter_than_the_minimum_is_what_the_user_asked_for() -> None:
    one_minute = Schedule.for_feed(None, 60, min_poll_interval=300, max_poll_interval=86400)
    assert (one_minute.interval, one_minute.minimum) == (60, 60)
    assert Schedule.for_feed(600, 60, 300, 86400).interval == 600  # the feed's own wins


def test_backoff_is_bounded() -> None:
    assert backoff_interval(30, 60, 3600) <= 3600
    assert backoff_interval(1, 60, 3600, retry_after=600) >= 600

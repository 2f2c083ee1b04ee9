"""Every entry ends in a recorded state: a document (or copy, off topic, no text), or a
failure with its reason that is retried, parked where `newswatch failures` shows it, and
counted by `poll --once`, which then exits non-zero. Real workers, real Redis."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import redis

from tests.integration.test_redis_outage import PAGE, STORIES
from tests.integration.test_slice import ARTICLE, run_cli
from tests.support import write_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration

OTHER_ARTICLE = PAGE.format(n=1, story=STORIES[0])


def feed(base: str, items: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{path}</guid></item>"
        for path, title in items
    )
    return f'<rss version="2.0"><channel><title>W</title>{body}</channel></rss>'


def recorded(out: str) -> tuple[int, int, int]:
    """(entries, entries that ended in a state other than failed, failed) of a summary."""
    entries = int(re.search(r"entries: (\d+) new", out).group(1))
    states = re.search(
        r"documents: (\d+) written, (\d+) revised, (\d+) duplicates, "
        r"(\d+) off topic, (\d+) without text",
        out,
    )
    failed = re.search(r"(\d+) entr(?:y|ies) failed", out)
    return entries, sum(int(n) for n in states.groups()), int(failed.group(1)) if failed else 0


def test_a_failing_entry_is_recorded_shown_and_retried(tmp_path: Path, redis_url: str) -> None:
    with LoopbackServer() as site:
        site.serve("/wire", feed(site.base, [("/a/good", "Seoul")]), "application/rss+xml")
        site.serve(
            "/desk",
            feed(site.base, [("/a/desk", "Desk"), ("/a/charset", "Charset"), ("/a/data", "Data")]),
            "application/rss+xml",
        )
        site.serve("/a/good", ARTICLE)
        site.serve("/a/desk", OTHER_ARTICLE)
        site.serve("/a/charset", ARTICLE.encode(), "text/html; charset=undefined")
        site.serve("/a/data", b"", status=302, headers={"Location": "data:text/html,<p>x</p>"})
        config = write_config(
            tmp_path,
            feeds=[
                {"url": f"{site.base}/wire", "topics": ["nk-troops-russia"], "name": "Wire"},
                {"url": f"{site.base}/desk", "topics": ["nk-troops-russia"], "name": "Desk"},
            ],
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        # A fault no retry can mend until someone does: the Desk's line counts are a key
        # of the wrong type, so every attempt at its entries fails the same way.
        broken = redis.Redis.from_url(redis_url)
        broken.set("nw:lines:Desk", "not a hash")

        first = run_cli("poll", "--once", env=env)
        entries, ended, failed = recorded(first.stdout)
        assert entries == 4 and ended + failed == 4, first.stdout
        assert failed >= 1 and first.returncode == 1, first.stdout + first.stderr
        assert f"{failed} entr" in first.stdout and "failed" in first.stdout

        listed = run_cli("failures", env=env)
        assert listed.returncode == 0, listed.stderr
        assert f"{site.base}/a/desk" in listed.stdout and "WRONGTYPE" in listed.stdout
        assert f"{failed} failed entr" in listed.stdout
        feeds = run_cli("feeds", "list", env=env)
        assert "see `newswatch failures`" in feeds.stdout

        broken.delete("nw:lines:Desk")  # the fault is mended
        retried = run_cli("failures", "--retry", env=env)
        assert "documents: 1 written" in retried.stdout, retried.stdout + retried.stderr
        still = run_cli("failures", env=env).stdout
        assert f"{site.base}/a/desk" not in still
        # What still fails (a page no fetch can decode) stays listed, and says so.
        assert (retried.returncode == 1) == ("0 failed entries" not in still), still
    documents = sorted((tmp_path / "corpus").glob("*.txt"))
    assert len(documents) == 2

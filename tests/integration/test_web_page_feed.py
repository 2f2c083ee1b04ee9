"""A web page configured as a feed, polled by a real worker (`poll --once`): the poll is
an error naming the feed the page advertises, and `feeds list` shows it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, write_config
from worker.demo.servers import LoopbackServer

pytestmark = pytest.mark.integration

PAGE = (DATA / "feeds" / "web-page-advertising-feeds.html").read_bytes()


def run_cli(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_web_page_polled_by_a_worker_is_an_error_that_names_the_feed(
    tmp_path: Path, redis_url: str
) -> None:
    with LoopbackServer() as site:
        site.serve("/front", PAGE, "text/html; charset=utf-8")
        config = write_config(
            tmp_path, feeds=[{"url": f"{site.base}/front", "topics": ["nk-troops-russia"]}]
        )
        env = {**os.environ, "NEWSWATCH_REDIS_URL": redis_url, "NEWSWATCH_CONFIG_DIR": str(config)}
        polled = run_cli("poll", "--once", env=env)
        assert "polled 1 feed(s): 1 error" in polled.stdout, polled.stdout + polled.stderr
        listing = run_cli("feeds", "list", env=env)
    assert listing.returncode == 0, listing.stderr
    assert "last success: never" in listing.stdout
    assert "1 consecutive error(s)" in listing.stdout
    assert (
        f"{site.base}/front: a web page (HTML), not a feed; it advertises 2 feeds: "
        f"{site.base}/news/world.rss, https://harbour.example/atom.xml; use one of them"
        in listing.stdout
    )

"""`feeds add` and `feeds import` keep the user's feeds.yaml as written (comments, layout),
check the result before writing it, write it atomically, and keep OPML folders."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import ROOT, write_config
from worker.cli import cli
from worker.config import load_config
from worker.config_edit import NewFeed, add_feeds

SHIPPED = ROOT / "config" / "feeds.yaml"


def feeds(config: Path, *arguments: str):
    return CliRunner().invoke(cli, ["feeds", *arguments, "--config", str(config)])


def leftovers(config: Path) -> list[str]:
    return sorted(p.name for p in config.iterdir() if p.name.startswith(".feeds.yaml"))


def test_feeds_add_keeps_the_users_comments_and_layout(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    shutil.copy(SHIPPED, config / "feeds.yaml")
    before = SHIPPED.read_text()
    result = feeds(
        config,
        "add",
        "https://news.example/rss",
        "--topic",
        "nk-troops-russia",
        "--name",
        "Harbour News",
    )
    assert result.exit_code == 0, result.output
    assert (config / "feeds.yaml").read_text() == before + (
        "  - url: https://news.example/rss\n"
        "    name: Harbour News\n"
        "    topics: [nk-troops-russia]\n"
    )


def test_feeds_add_of_a_listed_feed_says_so_and_writes_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    shutil.copy(SHIPPED, config / "feeds.yaml")
    url = "https://feeds.bbci.co.uk/news/world/rss.xml"
    assert url in SHIPPED.read_text()
    result = feeds(config, "add", url, "--topic", "nk-troops-russia")
    assert result.exit_code == 0, result.output
    assert f"{url} is already in" in result.output
    assert (config / "feeds.yaml").read_bytes() == SHIPPED.read_bytes()


@pytest.mark.parametrize(
    ("url", "topic", "said"),
    [
        (
            "ftp://news.example/rss",
            "nk-troops-russia",
            "'ftp://news.example/rss' is not an http(s) URL",
        ),
        (
            "https://news.example/rss",
            "nk-troops-rusia",
            "no topic named 'nk-troops-rusia'; did you mean 'nk-troops-russia'?",
        ),
    ],
)
def test_feeds_add_that_would_break_the_file_writes_nothing(
    tmp_path: Path, url: str, topic: str, said: str
) -> None:
    config = write_config(tmp_path)
    shutil.copy(SHIPPED, config / "feeds.yaml")
    result = feeds(config, "add", url, "--topic", topic)
    assert result.exit_code == 2
    assert said in result.output and "left as it was" in result.output
    assert (config / "feeds.yaml").read_bytes() == SHIPPED.read_bytes()
    assert leftovers(config) == []


def test_feeds_add_needs_no_alert_secrets(tmp_path: Path) -> None:
    """Adding a feed checks feeds.yaml, not whether this shell holds the webhook secret."""
    config = write_config(
        tmp_path,
        channels={
            "hook": {
                "type": "webhook",
                "url": "https://hooks.example/x",
                "secret": "${NOT_SET_IN_THIS_SHELL}",
            }
        },
    )
    result = feeds(config, "add", "https://news.example/rss", "--topic", "nk-troops-russia")
    assert result.exit_code == 0, result.output
    env = {"NOT_SET_IN_THIS_SHELL": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    assert [f.url for f in load_config(config, env=env).feeds] == ["https://news.example/rss"]


OPML = """<?xml version="1.0"?><opml version="2.0"><head><title>Desk</title></head><body>
  <outline text="World">
    <outline text="Harbour Gazette" xmlUrl="https://harbour.example/world.rss"/>
    <outline title="Asia"><outline text="Straits" xmlUrl="https://straits.example/atom"/></outline>
  </outline>
  <outline text="Loose" xmlUrl="https://loose.example/feed"/>
</body></opml>"""


def test_opml_folders_become_comments_above_their_feeds(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    shutil.copy(SHIPPED, config / "feeds.yaml")
    (tmp_path / "desk.opml").write_text(OPML)
    result = feeds(config, "import", str(tmp_path / "desk.opml"), "--topic", "nk-troops-russia")
    assert result.exit_code == 0, result.output
    assert "imported 3 new feed(s) of 3" in result.output
    assert "OPML folders kept as comments above their feeds: World; World / Asia" in result.output
    text = (config / "feeds.yaml").read_text()
    assert text.startswith(SHIPPED.read_text())
    assert text.endswith(
        "  # from OPML folder: World\n"
        "  - url: https://harbour.example/world.rss\n"
        "    name: Harbour Gazette\n"
        "    topics: [nk-troops-russia]\n"
        "  # from OPML folder: World / Asia\n"
        "  - url: https://straits.example/atom\n"
        "    name: Straits\n"
        "    topics: [nk-troops-russia]\n"
        "  - url: https://loose.example/feed\n"
        "    name: Loose\n"
        "    topics: [nk-troops-russia]\n"
    )
    assert len(load_config(config).feeds) == 6


def test_an_unusable_outline_is_skipped_and_named(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "desk.opml").write_text(
        OPML.replace("https://loose.example/feed", "javascript:alert(1)")
    )
    result = feeds(config, "import", str(tmp_path / "desk.opml"), "--topic", "nk-troops-russia")
    assert result.exit_code == 0, result.output
    assert "skipped 'javascript:alert(1)' (Loose): not an http(s) URL" in result.output
    assert "imported 2 new feed(s) of 3" in result.output
    assert [f.url for f in load_config(config).feeds] == [
        "https://harbour.example/world.rss",
        "https://straits.example/atom",
    ]


def test_an_unknown_topic_is_named_once_for_a_whole_import(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    before = (config / "feeds.yaml").read_bytes()
    (tmp_path / "desk.opml").write_text(OPML)
    result = feeds(config, "import", str(tmp_path / "desk.opml"), "--topic", "nk-troops")
    assert result.exit_code == 2
    assert result.output.count("no topic named 'nk-troops'; did you mean 'nk-troops-russia'?") == 1
    assert (config / "feeds.yaml").read_bytes() == before
    assert leftovers(config) == []


def test_a_failed_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    shutil.copy(SHIPPED, config / "feeds.yaml")

    def disk_full(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        add_feeds(config, [NewFeed("https://news.example/rss", ("nk-troops-russia",))])
    assert (config / "feeds.yaml").read_bytes() == SHIPPED.read_bytes()
    assert leftovers(config) == []


def test_feeds_add_to_an_empty_list_or_no_file(tmp_path: Path) -> None:
    config = write_config(tmp_path)  # writes `feeds: []`
    assert (
        feeds(config, "add", "https://a.example/rss", "--topic", "nk-troops-russia").exit_code == 0
    )
    assert (config / "feeds.yaml").read_text() == (
        "feeds:\n  - url: https://a.example/rss\n    topics: [nk-troops-russia]\n"
    )
    (config / "feeds.yaml").unlink()
    assert (
        feeds(config, "add", "https://b.example/rss", "--topic", "nk-troops-russia").exit_code == 0
    )
    assert [f.url for f in load_config(config).feeds] == ["https://b.example/rss"]

"""A careless operator's mistakes and a hostile page end in one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, ROOT, SEED, write_config
from worker.cli import cli
from worker.demo.servers import LoopbackServer
from worker.store.embedded import free_port


def newswatch(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed command as a user runs it (its `main` turns errors into one line)."""
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:

    config = write_config(
        tmp_path, feeds=[{"url": "https://a.example/rss", "topics": ["nk-troops-russia"]}]
    )
    env = {**os.environ, "NEWSWATCH_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    for command in (["figures"], ["alerts"], ["feeds", "list"], ["reindex"]):
        result = newswatch(*command, "--config", str(config), env=env)
        assert result.returncode == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr
        [line] = result.stderr.strip().splitlines()
        assert line.startswith("newswatch: Redis: ") and "Connection refused" in line


def test_ingest_of_a_file_over_the_download_cap_is_refused_at_once(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = write_config(tmp_path)  # max_download_bytes: 10 MB by default
    huge = tmp_path / "huge.html"
    with huge.open("wb") as stream:  # 300 MB, sparse: nothing is written to the disk
        stream.truncate(300 * 1024**2)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["ingest", str(huge), "--config", str(config)])
    assert result.exit_code == 1
    assert f"{huge}: larger than max_download_bytes (10,000,000 bytes)" in result.output
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/served/undefined", "new →"),
        ("/served/punycode", "new →"),
        ("/served/idna-redirect", "A-label"),
        ("http://xn--a-.example/x", "A-label"),
    ],
)
def test_ingest_of_hostile_urls_is_one_line_each(
    tmp_path: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    site: LoopbackServer,
    path: str,
    expected: str,
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = write_config(tmp_path)
    hostile = DATA / "hostile"
    site.serve(
        "/served/undefined",
        (hostile / "page-charset-undefined.html").read_bytes(),
        "text/html; charset=undefined",
    )
    site.serve(
        "/served/punycode",
        (hostile / "page-charset-punycode.html").read_bytes(),
        "text/html; charset=punycode",
    )
    site.serve(
        "/served/idna-redirect", b"", status=302, headers={"Location": "http://xn--a-.example/"}
    )
    url = path if path.startswith("http") else f"{site.base}{path}"
    result = CliRunner().invoke(cli, ["ingest", url, "--config", str(config)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert expected in result.output
    assert "Traceback" not in result.output


def test_a_port_out_of_range_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["web", "--port", "99999", "--config", str(write_config(tmp_path))],
        env={"NEWSWATCH_WEB_USER": "desk", "NEWSWATCH_WEB_PASSWORD": "change-me"},
    )
    assert result.exit_code == 2
    assert "Invalid value for '--port': Input should be less than or equal to 65535" in (
        result.output
    )


def test_a_folder_given_as_an_article_is_named_as_one(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    config = str(write_config(tmp_path))
    # ingest goes on with the other items, so a bad one is a failure of the run (1); the
    # OPML file is the whole of what import was given, so it cannot start (2, as usage).
    for command, code in (
        (["ingest", str(tmp_path)], 1),
        (["feeds", "import", str(tmp_path), "--topic", "nk-troops-russia"], 2),
    ):
        result = CliRunner().invoke(cli, [*command, "--config", config])
        assert result.exit_code == code, result.output
        assert f"{tmp_path}: a folder, not a file" in result.output


def test_retrying_no_failed_entries_starts_nothing(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    result = CliRunner().invoke(
        cli, ["failures", "--retry", "--config", str(write_config(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    assert result.output == "0 failed entries; nothing to retry\n"


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["poll"], "newswatch: only `poll --once` exists"),
        (["figures", "nope"], "newswatch: no topic named 'nope' (known: nk-troops-russia)"),
        (["explain", str(SEED), "--topic", "nope"], "newswatch: no topic named 'nope'"),
        (
            ["explain", str(SEED), "--topic", "nk-troops-russia", "--language", "xx"],
            "newswatch: --language 'xx': not a supported language (supported: ar, cs, de, en, "
            "es, fr, id, ja, ko, pt, ru, uk, zh)",
        ),
        (["ingest", str(SEED), "--topic", "nope"], "newswatch: no topic named 'nope'"),
        (["test-alert", "nosuch"], "newswatch: no channel named 'nosuch' (known: none)"),
        (["test-alert"], "newswatch: no channels are configured in "),
        (["alerts", "--resend", "evt_nope"], "newswatch: no event evt_nope"),
        (
            ["feeds", "add", "https://x.example/rss", "--topic", "nope"],
            "newswatch: no topic named 'nope'",
        ),
        (["feeds", "import", "/no/such.opml", "--topic", "nk-troops-russia"], "newswatch: "),
        (["web"], "newswatch: set NEWSWATCH_WEB_USER and NEWSWATCH_WEB_PASSWORD"),
    ],
    ids=lambda value: " ".join(value).replace(str(SEED), "SEED") if isinstance(value, list) else "",
)
def test_a_usage_or_config_mistake_is_one_line_and_exit_code_2(
    tmp_path: Path, redis_url: str, command: list[str], said: str
) -> None:
    """Exit code 2, as for the mistakes click catches itself (an unknown option); 1 is
    for a command that ran and failed."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_WEB_")},
        "NEWSWATCH_REDIS_URL": redis_url,
    }
    result = newswatch(*command, "--config", str(write_config(tmp_path)), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(said), line
    assert result.stdout == ""


@pytest.mark.parametrize(
    "command", [["figures"], ["run"], ["explain", "x", "--topic", "t"], ["health"]], ids=" ".join
)
def test_a_config_folder_that_does_not_exist_is_one_line_and_exit_code_2(
    tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "nope"
    result = newswatch(*command, "--config", str(missing))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [f"{missing}: the config folder does not exist"]


def test_check_config_still_exits_1_with_its_problems(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = newswatch("check-config", "--config", str(missing))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{missing}: the config folder does not exist",
        f"1 problem(s) in {missing}",
    ]


def test_a_demo_kept_in_a_folder_that_is_not_empty_is_one_line_and_exit_code_2(
    tmp_path: Path,
) -> None:
    (tmp_path / "earlier.txt").write_text("a kept run")
    result = newswatch("demo", "--keep", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"newswatch: {tmp_path}: not an empty folder; the demo starts from nothing"
    ]


def test_a_web_port_already_taken_is_one_line(tmp_path: Path) -> None:
    import socket

    env = {**os.environ, "NEWSWATCH_WEB_USER": "desk", "NEWSWATCH_WEB_PASSWORD": "pass"}
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = newswatch(
            "web", "--port", str(port), "--config", str(write_config(tmp_path)), env=env
        )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"newswatch: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert result.stdout == ""

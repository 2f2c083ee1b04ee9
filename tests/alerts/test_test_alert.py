"""`newswatch test-alert [CHANNEL]`: a marked test event through each channel, its result
reported, so secrets and addresses are checked before the news does it (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.alerts.conftest import SECRET, Mailbox
from tests.support import write_config
from worker.cli import cli
from worker.demo.servers import WebhookReceiver
from worker.store.embedded import free_port


@pytest.fixture
def config(
    tmp_path: Path,
    redis_url: str,
    receiver: WebhookReceiver,
    smtp: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    _, port = smtp
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    return write_config(
        tmp_path,
        channels={
            "hook": {"type": "webhook", "url": receiver.url, "secret": SECRET},
            "mail": {"type": "email", "to": ["desk@example.org"], "digest": "1h"},
            "dead": {
                "type": "webhook",
                "url": f"http://127.0.0.1:{free_port()}/hook",
                "secret": SECRET,
                "timeout": "2s",
            },
        },
        service={"smtp": {"host": "127.0.0.1", "port": port, "security": "plain"}},
    )


def test_each_channel_gets_a_marked_test_and_the_result_is_reported(
    config: Path, receiver: WebhookReceiver, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    result = CliRunner().invoke(cli, ["test-alert", "--config", str(config)])
    lines = result.output.splitlines()
    assert "hook: delivered" in lines and "mail: delivered" in lines
    assert any(line.startswith("dead: failed — ") for line in lines)
    assert result.exit_code == 1  # one channel failed
    [event] = receiver.events
    assert event["type"] == "test" and event["channel"] == "hook"
    assert event["message"].startswith("TEST from newswatch")
    [message] = mailbox.messages  # sent at once, not held for the channel's digest
    assert message["Subject"].startswith("[newswatch] TEST alert for channel mail")


def test_one_channel_and_an_unknown_one(config: Path, receiver: WebhookReceiver) -> None:
    result = CliRunner().invoke(cli, ["test-alert", "hook", "--config", str(config)])
    assert result.exit_code == 0 and result.output.strip() == "hook: delivered"
    unknown = CliRunner().invoke(cli, ["test-alert", "nosuch", "--config", str(config)])
    assert unknown.exit_code == 2 and "no channel named 'nosuch'" in unknown.output

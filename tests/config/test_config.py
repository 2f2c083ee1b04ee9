from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.support import ROOT, write_config
from worker.cli import cli
from worker.config import check_config, load_config, parse_duration
from worker.errors import ConfigError

ENV = {"ALERT_WEBHOOK_URL": "https://hooks.example.org/x",
       "ALERT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}


def test_the_example_config_loads_with_its_secrets_from_the_environment() -> None:
    config = load_config(ROOT / "config", env=ENV)
    topic = config.topics["nk-troops-russia"]
    assert topic.figures["nk_troops_in_russia"].ignore == ["planned"]
    assert config.alerts.channels["desk-webhook"].url == ENV["ALERT_WEBHOOK_URL"]
    assert config.service.poll_interval == 900
    assert config.seeds_dir(topic) == ROOT / "seeds"


def test_a_missing_secret_is_named_with_file_and_key() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(ROOT / "config", env={"ALERT_WEBHOOK_URL": "https://x.example"})
    assert any("alerts.yaml: channels.desk-webhook.secret: environment variable "
               "ALERT_WEBHOOK_SECRET is not set" in p for p in error.value.problems)


def test_environment_overrides_service_settings(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    config = load_config(config_dir, env={"NEWSWATCH_POLL_INTERVAL": "2h",
                                          "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "false",
                                          "NEWSWATCH_SMTP_PORT": "2525"})
    assert config.service.poll_interval == 7200
    assert config.service.allow_private_networks is False
    assert config.service.smtp.port == 2525


def test_three_mistakes_are_all_named(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    service = yaml.safe_load((config_dir / "newswatch.yaml").read_text())
    service["poll_intervall"] = "5m"                       # 1: a misspelt key
    (config_dir / "newswatch.yaml").write_text(yaml.safe_dump(service))
    topic_path = config_dir / "topics" / "nk-troops-russia.yaml"
    topic = yaml.safe_load(topic_path.read_text())
    topic["figures"]["nk_troops_in_russia"]["alert"] = "up"  # 2: not a direction
    topic_path.write_text(yaml.safe_dump(topic))
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump(
        {"feeds": [{"url": "https://a.example/rss", "topics": ["no-such-topic"]}]}))  # 3

    problems = check_config(config_dir)

    assert len(problems) == 3, problems
    assert f"{config_dir / 'newswatch.yaml'}: poll_intervall: unknown key" in problems
    assert any(p.startswith(f"{topic_path}: figures.nk_troops_in_russia.alert:") for p in problems)
    assert (f"{config_dir / 'feeds.yaml'}: feeds.0.topics: no topic named 'no-such-topic'"
            in problems)


def test_check_config_command_prints_each_problem_and_exits_non_zero(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / "feeds.yaml").write_text("feeds:\n  - url: ftp://x\n    topics: []\n")
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config_dir)])
    assert result.exit_code == 1
    assert "feeds.0.url: Value error" not in result.output
    assert "feeds.0.url: 'ftp://x' is not an http(s) URL" in result.output
    assert "feeds.0.topics: List should have at least 1 item" in result.output


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / "alerts.yaml").write_text("channels: [\n  oops: {\n")
    problems = check_config(config_dir)
    assert len(problems) == 1 and "alerts.yaml: line" in problems[0]


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("15m", 900), ("2h", 7200),
                                               ("1d", 86400), (30, 30), ("250ms", 0.25)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_the_bundled_demo_topic_is_the_example_topic() -> None:
    bundled = (ROOT / "worker" / "demo" / "topic.yaml").read_text()
    assert bundled == (ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text()
    assert (ROOT / "worker" / "demo" / "seed.txt").read_bytes() == \
        (ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt").read_bytes()


@pytest.mark.parametrize("secret", ["whsec_not*base64!", "whsec_", "whsec_CHANGE_ME_bmV3c3dhdGNoLWV4YW1wbGU=",
                                    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_%%%"])
def test_an_invalid_webhook_secret_is_caught_by_check_config(tmp_path: Path, secret: str) -> None:
    config_dir = write_config(tmp_path, channels={
        "hook": {"type": "webhook", "url": "https://hooks.example/x", "secret": "${HOOK_SECRET}"}})
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config_dir)],
                                env={"HOOK_SECRET": secret})
    assert result.exit_code == 1
    assert "channels.hook.webhook.secret: " in result.output
    assert "must be base64" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("smtp", ["localhost", 25, ["localhost"]])
def test_smtp_written_as_a_value_is_one_clear_line(tmp_path: Path, smtp: object) -> None:
    config_dir = write_config(tmp_path, service={"smtp": smtp})
    result = CliRunner().invoke(cli, ["check-config", "--config", str(config_dir)],
                                env={"NEWSWATCH_SMTP_PORT": "2525"})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "newswatch.yaml: smtp: " in result.output
    assert "Traceback" not in result.output

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.support import ROOT, write_config
from worker.cli import cli
from worker.config import check_config, load_config, parse_duration, sending
from worker.errors import ConfigError

ENV = {
    "ALERT_WEBHOOK_URL": "https://hooks.example.org/x",
    "ALERT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}


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
    assert (
        f"{ROOT / 'config' / 'alerts.yaml'}:2: channels.desk-webhook.secret: environment "
        "variable ALERT_WEBHOOK_SECRET is not set" in error.value.problems
    )
    assert len(error.value.problems) == 1, error.value.problems


def test_a_channel_whose_variables_are_unset_is_left_out_until_something_sends() -> None:
    config = load_config(ROOT / "config", env={}, require_channels=False)
    assert set(config.alerts.channels) == {"desk-email"}
    assert list(config.unresolved) == ["desk-webhook"]
    assert sending(config, ["desk-email"]) is config
    with pytest.raises(ConfigError) as error:
        sending(config)
    assert error.value.problems == [
        f"{ROOT / 'config' / 'alerts.yaml'}:2: channels.desk-webhook: environment variables "
        "ALERT_WEBHOOK_URL and ALERT_WEBHOOK_SECRET are not set "
        "(needed to send alerts; .env.example lists them)"
    ]


def test_a_dry_run_sends_nothing_so_needs_no_alert_secrets() -> None:
    dry_run = {"NEWSWATCH_DRY_RUN": "true"}
    config = load_config(ROOT / "config", env=dry_run)
    assert config.service.dry_run and list(config.unresolved) == ["desk-webhook"]
    with pytest.raises(ConfigError):  # as check-config loads it: the variables are named
        load_config(ROOT / "config", env=dry_run, require_channels=True)


def test_environment_overrides_service_settings(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    config = load_config(
        config_dir,
        env={
            "NEWSWATCH_POLL_INTERVAL": "2h",
            "NEWSWATCH_ALLOW_PRIVATE_NETWORKS": "false",
            "NEWSWATCH_SMTP_PORT": "2525",
        },
    )
    assert config.service.poll_interval == 7200
    assert config.service.allow_private_networks is False
    assert config.service.smtp.port == 2525


def test_three_mistakes_are_all_named(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    service = yaml.safe_load((config_dir / "newswatch.yaml").read_text())
    service["poll_intervall"] = "5m"  # 1: a misspelt key
    (config_dir / "newswatch.yaml").write_text(yaml.safe_dump(service))
    topic_path = config_dir / "topics" / "nk-troops-russia.yaml"
    topic = yaml.safe_load(topic_path.read_text())
    topic["figures"]["nk_troops_in_russia"]["alert"] = "up"  # 2: not a direction
    topic_path.write_text(yaml.safe_dump(topic))
    (config_dir / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"url": "https://a.example/rss", "topics": ["no-such-topic"]}]})
    )  # 3

    problems = check_config(config_dir)

    assert len(problems) == 3, problems
    line = sorted(service).index("poll_intervall") + 1  # safe_dump sorts the keys
    assert (
        f"{config_dir / 'newswatch.yaml'}:{line}: poll_intervall: unknown key; "
        "did you mean 'poll_interval'?" in problems
    )
    assert any(
        p.startswith(f"{topic_path}:") and ": figures.nk_troops_in_russia.alert: 'up' " in p
        for p in problems
    )
    assert (
        f"{config_dir / 'feeds.yaml'}:3: feeds.0.topics: no topic named 'no-such-topic'" in problems
    )


TOPIC = """\
id: ai-race
title: The AI race
entities:
  openai: [OpenAI]
  anthropic: [Anthropic]
figures:
  gpu_count:
    label: GPUs bought
    about: open-ai
    units: [GPUs]
    alert: upward
    tolerance: lots
"""


def test_one_bad_topic_file_is_reported_once_with_every_mistake_in_it(tmp_path: Path) -> None:
    """issue 13: a topic with a bad value was dropped whole, so each reference to it came
    back as "no topic named", and its other mistakes waited for the next run."""
    config_dir = write_config(tmp_path)
    topic_path = config_dir / "topics" / "ai-race.yaml"
    topic_path.write_text(TOPIC)
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n"
        "  - url: https://a.example/rss\n"
        "    topics: [ai-race]\n"
        "  - url: https://b.example/rss\n"
        "    topics: [ai-race, ai-rase]\n"
    )
    (config_dir / "alerts.yaml").write_text(
        "channels:\n"
        "  desk: {type: webhok, url: https://hooks.example/x}\n"
        "routes:\n"
        "  - topics: [ai-race]\n"
        "    events: [figure.change]\n"
        "    channels: [desk, dsek]\n"
    )

    problems = check_config(config_dir)

    feeds, alerts = config_dir / "feeds.yaml", config_dir / "alerts.yaml"
    assert sorted(problems) == sorted(
        [
            f"{topic_path}:9: figures.gpu_count.about: 'open-ai' is not one of the entities "
            "(anthropic, openai); did you mean 'openai'?",
            f"{topic_path}:11: figures.gpu_count.alert: 'upward' is not allowed: use 'increase', "
            "'decrease' or 'change'",
            f"{topic_path}:12: figures.gpu_count.tolerance: Input should be a valid number, "
            "unable to parse string as a number (found 'lots')",
            f"{feeds}:5: feeds.1.topics: no topic named 'ai-rase'; did you mean 'ai-race'?",
            f"{alerts}:2: channels.desk.type: 'webhok' is not allowed: use 'webhook', 'email', "
            "'apprise'; did you mean 'webhook'?",
            f"{alerts}:6: routes.0.channels: no channel named 'dsek'; did you mean 'desk'?",
            f"{alerts}:5: routes.0.events: unknown event type 'figure.change'; did you mean "
            "'figure.changed'? (known: figure.changed, entity.first_seen, entity.emerging, "
            "feed.failing, feed.recovered)",
        ]
    ), problems
    assert not any("(top level)" in p for p in problems)


def test_a_wrong_top_level_is_named_without_a_placeholder(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / "newswatch.yaml").write_text("- poll_interval: 5m\n")
    assert check_config(config_dir) == [
        f"{config_dir / 'newswatch.yaml'}:1: expected a mapping of keys (key: value lines)"
    ]


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
    assert len(problems) == 1 and f"{config_dir / 'alerts.yaml'}:3: not valid YAML" in problems[0]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), (30, 30), ("250ms", 0.25)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_the_bundled_demo_topic_is_the_example_topic() -> None:
    bundled = (ROOT / "worker" / "demo" / "topic.yaml").read_text()
    assert bundled == (ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text()
    assert (ROOT / "worker" / "demo" / "seed.txt").read_bytes() == (
        ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt"
    ).read_bytes()


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_not*base64!",
        "whsec_",
        "whsec_CHANGE_ME_bmV3c3dhdGNoLWV4YW1wbGU=",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_%%%",
    ],
)
def test_an_invalid_webhook_secret_is_caught_by_check_config(tmp_path: Path, secret: str) -> None:
    config_dir = write_config(
        tmp_path,
        channels={
            "hook": {
                "type": "webhook",
                "url": "https://hooks.example/x",
                "secret": "${HOOK_SECRET}",
            }
        },
    )
    result = CliRunner().invoke(
        cli, ["check-config", "--config", str(config_dir)], env={"HOOK_SECRET": secret}
    )
    assert result.exit_code == 1
    assert "alerts.yaml:3: channels.hook.secret: " in result.output
    assert "must be base64" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("smtp", ["localhost", 25, ["localhost"]])
def test_smtp_written_as_a_value_is_one_clear_line(tmp_path: Path, smtp: object) -> None:
    config_dir = write_config(tmp_path, service={"smtp": smtp})
    result = CliRunner().invoke(
        cli, ["check-config", "--config", str(config_dir)], env={"NEWSWATCH_SMTP_PORT": "2525"}
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "newswatch.yaml:4: smtp: " in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", [None, "", "# no feeds yet\n", "feeds:\n"])
def test_no_feeds_is_a_valid_config(tmp_path: Path, text: str | None) -> None:
    config_dir = write_config(tmp_path)
    if text is None:
        (config_dir / "feeds.yaml").unlink()
    else:
        (config_dir / "feeds.yaml").write_text(text)
    assert check_config(config_dir) == []


def test_an_unset_variable_does_not_hide_the_other_mistakes_in_its_file(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    (config_dir / "alerts.yaml").write_text(
        "channels:\n"
        "  hook: {type: webhook, url: https://hooks.example/x, secret: '${NOT_SET}'}\n"
        "  mail: {type: email, to: [desk@example.org], digest: sometimes}\n"
    )
    alerts = config_dir / "alerts.yaml"
    assert check_config(config_dir) == [
        f"{alerts}:2: channels.hook.secret: environment variable NOT_SET is not set",
        f"{alerts}:3: channels.mail.digest: 'sometimes' is not a duration such as 30s, 15m or 2h",
    ]


def test_a_bad_value_from_the_environment_names_its_variable(tmp_path: Path) -> None:
    config_dir = write_config(tmp_path)
    problems = check_config_with_env(
        config_dir, {"NEWSWATCH_POLL_INTERVAL": "often", "NEWSWATCH_SMTP_PORT": "smtp"}
    )
    service = config_dir / "newswatch.yaml"
    assert sorted(problems) == [
        f"{service}: poll_interval: 'often' is not a duration such as 30s, 15m or 2h "
        "(set by NEWSWATCH_POLL_INTERVAL)",
        f"{service}: smtp.port: Input should be a valid integer, unable to parse string as an "
        "integer (found 'smtp') (set by NEWSWATCH_SMTP_PORT)",
    ]


def check_config_with_env(config_dir: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(config_dir, env=env)
    return error.value.problems

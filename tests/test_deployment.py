"""docker-compose.yml, the Dockerfile and .dockerignore read as a user's docker would.
They are run for real by tests/compose (podman); these checks need no container engine."""

import re
import shlex
import subprocess
import sys

import pytest
import yaml

from tests.support import ROOT
from worker.config import parse_duration

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NEWSWATCH = ["worker", "poller", "beat", "flower", "web"]


def test_the_expected_services_exist() -> None:
    assert {"redis", *NEWSWATCH} <= set(SERVICES)
    demo = {name for name, s in SERVICES.items() if "demo" in s.get("profiles", [])}
    assert demo == {"mailpit", "webhook-receiver"}


def test_redis_keeps_an_append_only_file_on_a_volume_with_a_healthcheck() -> None:
    redis = SERVICES["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--dir") + 1] == "/data"
    volume = next(v for v in redis["volumes"] if v.endswith(":/data"))
    assert volume.split(":")[0] in COMPOSE["volumes"]  # a named volume, kept across restarts
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


@pytest.mark.parametrize("name", ["worker", "poller"])
def test_a_worker_healthcheck_pings_the_node_its_command_names(name: str) -> None:
    service = SERVICES[name]
    node = service["command"][service["command"].index("-n") + 1]
    assert node.endswith("@%h")
    assert service["healthcheck"]["test"] == [
        "CMD",
        "newswatch",
        "health",
        "--worker",
        node.removesuffix("@%h"),
    ]


def test_no_healthcheck_relies_on_a_shell_variable_in_exec_form() -> None:
    for name, service in SERVICES.items():
        test = service.get("healthcheck", {}).get("test", [])
        if test and test[0] == "CMD":
            assert not any("$" in part for part in test), f"{name}: {test}"


def test_services_wait_for_a_healthy_redis_and_restart() -> None:
    for name in NEWSWATCH:
        assert SERVICES[name]["depends_on"] == {"redis": {"condition": "service_healthy"}}
        assert "healthcheck" in SERVICES[name], name
        assert SERVICES[name]["init"] is True, name  # SIGTERM reaches Celery, not a PID 1
    for name, service in SERVICES.items():
        assert service.get("restart") == "unless-stopped", name


def test_workers_get_time_for_a_warm_shutdown() -> None:
    fetch_timeout = parse_duration(
        yaml.safe_load((ROOT / "config" / "newswatch.yaml").read_text())["fetch_timeout"]
    )
    for name in ("worker", "poller"):
        grace = parse_duration(SERVICES[name]["stop_grace_period"])
        assert grace > fetch_timeout, f"{name}: {grace} s is not enough for a page fetch"


def test_flower_needs_basic_auth_and_every_port_is_on_loopback_only() -> None:
    flower = SERVICES["flower"]
    auth = flower["environment"]["FLOWER_BASIC_AUTH"]
    assert auth.startswith("${FLOWER_USER:?") and ":${FLOWER_PASSWORD:?" in auth
    assert not any("basic-auth" in part for part in flower["command"])  # not on a command line
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_every_newswatch_service_reads_env_and_mounts_config_and_the_corpus() -> None:
    topic = yaml.safe_load((ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text())
    for name in [*NEWSWATCH, "webhook-receiver"]:
        service = SERVICES[name]
        assert service["env_file"] == ".env"
        mounts = dict(v.split(":")[1::-1] for v in service["volumes"])
        assert mounts["/app/config"] == "./config"
        # A bind mount on the host, where the shipped topic's corpus lands in the container.
        assert mounts["/app/data/corpus"] == "./data/corpus"
        assert topic["corpus"].startswith("data/corpus/")


def test_public_images_are_pinned_and_swappable_for_local_ones() -> None:
    redis = SERVICES["redis"]["image"]
    assert re.fullmatch(r"\$\{REDIS_IMAGE:-redis:\d+\.\d+\.\d+-alpine\}", redis)
    base = SERVICES["worker"]["build"]["args"]["BASE"]
    assert re.fullmatch(r"\$\{NEWSWATCH_BASE_IMAGE:-python:\d+\.\d+\.\d+-slim-\w+\}", base)
    assert re.search(r":v\d+\.\d+\.\d+$", SERVICES["mailpit"]["image"])
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"ARG BASE={base.split(':-')[1].rstrip('}')}" in dockerfile


def test_every_variable_compose_and_config_use_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    for path in (ROOT / "config").rglob("*.yaml"):
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", path.read_text()))
    assert used - documented == set()


def test_the_web_view_is_published_on_loopback_and_checked_by_healthz() -> None:
    web = SERVICES["web"]
    assert web["command"][3] == "web"
    assert web["ports"] == ["127.0.0.1:${NEWSWATCH_WEB_PORT:-8000}:8000"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    example = (ROOT / ".env.example").read_text()
    assert "NEWSWATCH_WEB_USER=" in example and "NEWSWATCH_WEB_PASSWORD=" in example


@pytest.mark.parametrize("name", ["worker", "poller", "beat", "flower", "webhook-receiver", "web"])
def test_each_service_command_runs_locally(name: str) -> None:
    command = list(SERVICES[name]["command"])
    if command[0] == "celery":
        command = [sys.executable, "-m", "celery", *command[1:]]
    elif command[0] == "python":
        command = [sys.executable, *command[1:]]
    # `--help` after the subcommand proves the program, the app and the subcommand exist.
    subcommand_end = 5 if "celery" in command[2] else 3
    probe = [*command[:subcommand_end], "--help"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{shlex.join(probe)}: {result.stderr[-500:]}"


def test_the_image_is_built_in_two_stages_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert stages == ["${BASE}", "${BASE}"]
    assert "COPY --from=build /opt/newswatch /opt/newswatch" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users == ["newswatch"]


def test_the_build_context_holds_only_what_the_image_needs() -> None:
    ignore = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ignore[0] == "*"  # an allow-list: .venv, .git, data/, .env and tests stay out
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "worker", "config", "seeds"}
    copied = re.findall(
        r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.MULTILINE
    )
    sources = {part.rstrip("/") for line in copied for part in line.split()}
    assert sources <= allowed

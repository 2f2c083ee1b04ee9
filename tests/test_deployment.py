"""docker-compose.yml cannot run here (no Docker engine): check its structure, and that
each service's command is one that runs locally."""

import re
import shlex
import subprocess
import sys

import pytest
import yaml

from tests.support import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_the_expected_services_exist() -> None:
    assert {"redis", "worker", "poller", "beat", "flower"} <= set(SERVICES)
    demo = {name for name, s in SERVICES.items() if "demo" in s.get("profiles", [])}
    assert demo == {"mailpit", "webhook-receiver"}


def test_redis_keeps_an_append_only_file_on_a_volume_with_a_healthcheck() -> None:
    redis = SERVICES["redis"]
    assert "--appendonly" in redis["command"] and "yes" in redis["command"]
    assert any(v.endswith(":/data") for v in redis["volumes"])
    assert "redis-cli" in redis["healthcheck"]["test"]


def test_the_worker_is_pinged_by_its_healthcheck() -> None:
    test = SERVICES["worker"]["healthcheck"]["test"]
    assert "inspect" in test and "ping" in test


def test_flower_needs_basic_auth_and_is_published_on_loopback_only() -> None:
    flower = SERVICES["flower"]
    assert any(part.startswith("--basic-auth=${FLOWER_USER") for part in flower["command"])
    assert all(port.startswith("127.0.0.1:") for port in flower["ports"])
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_config_and_data_are_mounted_and_secrets_come_from_env() -> None:
    for name in ("worker", "beat", "flower"):
        service = SERVICES[name]
        assert service["env_file"] == ".env"
        targets = {v.split(":")[1] for v in service["volumes"]}
        assert {"/app/config", "/app/data"} <= targets


def test_every_variable_compose_and_config_use_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    for path in (ROOT / "config").rglob("*.yaml"):
        used |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", path.read_text()))
    assert used - documented == set()


def test_the_web_view_is_published_on_loopback_and_checked_by_healthz() -> None:
    web = SERVICES["web"]
    assert web["command"][3] == "web" and web["ports"] == ["127.0.0.1:8000:8000"]
    assert any("/healthz" in part for part in web["healthcheck"]["test"])
    example = (ROOT / ".env.example").read_text()
    assert "NEWSWATCH_WEB_USER=" in example and "NEWSWATCH_WEB_PASSWORD=" in example


@pytest.mark.parametrize("name", ["worker", "poller", "beat", "flower", "webhook-receiver",
                                  "web"])
def test_each_service_command_runs_locally(name: str) -> None:
    command = [part.replace("$$HOSTNAME", "x") for part in SERVICES[name]["command"]]
    if command[0] == "celery":
        command = [sys.executable, "-m", "celery", *command[1:]]
    elif command[0] == "python":
        command = [sys.executable, *command[1:]]
    # `--help` after the subcommand proves the program, the app and the subcommand exist.
    subcommand_end = 5 if "celery" in command[2] else 3
    probe = [*command[:subcommand_end], "--help"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{shlex.join(probe)}: {result.stderr[-500:]}"


def test_the_dockerfile_installs_the_package_and_runs_unprivileged() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile and "USER newswatch" in dockerfile
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile

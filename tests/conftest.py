"""Shared fixtures: a throwaway real Redis, config folders, the loopback servers."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import yaml

from worker.demo.servers import LoopbackServer
from worker.store.embedded import EmbeddedRedis, start_redis

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt"


def shared_data(name: str) -> Path:
    """A folder of ../shared/data, or a skip saying why the check cannot run."""
    path = SHARED / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared data sets are not part of a clone)")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test (`make integration`)."""
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A real redis-server of our own on a free port, gone when the session ends."""
    server = start_redis(tmp_path_factory.mktemp("redis"), append_only=False)
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> str:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    return redis_server.url


def write_config(folder: Path, *, feeds: list[dict[str, object]] | None = None,
                 channels: dict[str, object] | None = None,
                 service: dict[str, object] | None = None,
                 topic_overrides: dict[str, object] | None = None) -> Path:
    """A config folder with the example topic, seeds copied beside it, data under `folder`."""
    config = folder / "config"
    (config / "topics").mkdir(parents=True, exist_ok=True)
    seeds = folder / "seeds"
    seeds.mkdir(exist_ok=True)
    shutil.copy(SEED, seeds / SEED.name)
    topic = yaml.safe_load((ROOT / "config" / "topics" / "nk-troops-russia.yaml").read_text())
    topic.update({"seeds": str(seeds), "corpus": str(folder / "corpus")})
    topic.update(topic_overrides or {})
    (config / "topics" / "nk-troops-russia.yaml").write_text(yaml.safe_dump(topic))
    settings = {"data_dir": str(folder / "data"), "allow_private_networks": True,
                "fetch_timeout": "10s", "tick_interval": "1s"}
    settings.update(service or {})
    (config / "newswatch.yaml").write_text(yaml.safe_dump(settings))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds or []}))
    routes = [{"topics": ["*"], "events": ["*"], "channels": sorted(channels)}] if channels else []
    (config / "alerts.yaml").write_text(
        yaml.safe_dump({"channels": channels or {}, "routes": routes}))
    return config


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server

"""Shared fixtures: a throwaway real Redis and the loopback servers (helpers: support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support import DATA, ROOT, SEED, SHARED, shared_data, write_config
from worker.demo.servers import LoopbackServer
from worker.store.embedded import EmbeddedRedis, start_redis

# The hang guard of a test that starts workers and waits on their events with deadlines of
# its own: 120 s (pyproject's, for unit tests) is short for three `poll --once` runs on a
# machine whose cores are busy with other work (seen at a load average of 18).
INTEGRATION_TIMEOUT = 600


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration is an integration test (`make integration`),
    guarded against a hang by INTEGRATION_TIMEOUT unless it says otherwise."""
    for item in items:
        if "integration" in Path(str(item.fspath)).parts:
            item.add_marker(pytest.mark.integration)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(INTEGRATION_TIMEOUT))


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


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


__all__ = ["DATA", "ROOT", "SEED", "SHARED", "shared_data", "write_config"]

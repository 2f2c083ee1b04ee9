"""Starts what newswatch needs on this machine: Redis (embedded if none is configured),
Celery workers and beat, as child processes sharing one environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis

from worker.config import Config
from worker.store.embedded import EmbeddedRedis, start_redis


@dataclass
class Services:
    redis_url: str
    embedded: EmbeddedRedis | None = None
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def environment(self, config: Config) -> dict[str, str]:
        env = dict(os.environ)
        env["NEWSWATCH_REDIS_URL"] = self.redis_url
        env["NEWSWATCH_CONFIG_DIR"] = str(config.directory.resolve())
        if config.service.dry_run:
            env["NEWSWATCH_DRY_RUN"] = "true"
        return env


def _url_file(config: Config) -> Path:
    return config.data_dir / "redis" / "url"


def _alive(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def configured_redis_url(config: Config) -> str | None:
    """The Redis URL to use: configured, or that of an embedded server already running."""
    url = os.environ.get("NEWSWATCH_REDIS_URL") or config.service.redis_url
    if url:
        return url
    recorded = _url_file(config)
    if recorded.exists():
        url = recorded.read_text().strip()
        if _alive(url):
            return url
    return None


@contextmanager
def redis_for(config: Config) -> Iterator[Services]:
    """A Redis to talk to: the configured one, a running embedded one, or a new embedded one."""
    url = configured_redis_url(config)
    if url:
        services = Services(url)
        try:
            yield services
        finally:
            stop_children(services)
        return
    embedded = start_redis(config.data_dir / "redis")
    _url_file(config).write_text(embedded.url)
    services = Services(embedded.url, embedded)
    try:
        yield services
    finally:
        stop_children(services)
        _url_file(config).unlink(missing_ok=True)
        embedded.stop()


def celery_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker.celery_app", *arguments]


def start_worker(
    services: Services, config: Config, *, concurrency: int = 2, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """A prefork worker for article processing (CPU-bound)."""
    from worker.celery_app import QUEUE

    return _start_celery_worker(services, config, "newswatch", QUEUE, quiet,
                                "--concurrency", str(concurrency))  # fmt: skip


def start_poller(
    services: Services, config: Config, *, concurrency: int = 16, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """A thread-pool worker for feed polls and deliveries (network-bound)."""
    from worker.celery_app import IO_QUEUE

    return _start_celery_worker(services, config, "poller", IO_QUEUE, quiet,
                                "--pool", "threads", "--concurrency", str(concurrency))  # fmt: skip


def _start_celery_worker(
    services: Services, config: Config, name: str, queue: str, quiet: bool, *pool: str
) -> subprocess.Popen[bytes]:
    command = celery_command(
        "worker", "--loglevel", "WARNING" if quiet else "INFO", *pool, "-n", f"{name}@%h",
        "-Q", queue, "--without-gossip", "--without-mingle",
    )  # fmt: skip
    return _spawn(services, config, command, quiet)


def start_workers(
    services: Services, config: Config, *, quiet: bool = False, concurrency: int = 2
) -> None:
    """Both workers: prefork for articles, threads for polls and deliveries."""
    start_worker(services, config, concurrency=concurrency, quiet=quiet)
    start_poller(services, config, quiet=quiet)


def start_beat(
    services: Services,
    config: Config,
    *,
    quiet: bool = False,
    schedule_name: str = "celerybeat-schedule",
) -> subprocess.Popen[bytes]:
    schedule = config.data_dir / schedule_name
    schedule.parent.mkdir(parents=True, exist_ok=True)
    command = celery_command(
        "beat", "--loglevel", "WARNING" if quiet else "INFO", "--schedule", str(schedule)
    )
    return _spawn(services, config, command, quiet)


def _spawn(
    services: Services, config: Config, command: list[str], quiet: bool
) -> subprocess.Popen[bytes]:
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        command,
        env=services.environment(config),
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    services.children.append(process)
    return process


def stop_children(services: Services, timeout: float = 20.0) -> None:
    """Warm shutdown (SIGTERM lets workers finish their task), then SIGKILL."""
    for child in services.children:
        if child.poll() is None:
            # SIGTERM to the main process only, as `docker stop` does: Celery then stops
            # consuming and lets its pool finish the tasks in hand.
            with suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in services.children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    services.children.clear()


def wait_for_worker(timeout: float = 60.0, count: int = 2) -> bool:
    """True once `count` workers (the prefork worker and the poller) answer a ping."""
    from worker.celery_app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if len(app.control.ping(timeout=1.0)) >= count:
                return True
        time.sleep(0.3)
    return False

"""Is this node healthy: its Redis answers PING and each of its Celery workers answers a
ping. Container healthchecks run it as `newswatch health` (docker-compose.yml)."""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from worker import store
from worker.config import load_service
from worker.errors import ConfigError


@dataclass(frozen=True)
class Check:
    """One thing checked, whether it answered, and how (or why not)."""

    subject: str
    healthy: bool
    detail: str

    def line(self) -> str:
        return f"{self.subject}: {'ok' if self.healthy else 'FAILED'} ({self.detail})"


def node_name(worker: str, hostname: str | None = None) -> str:
    """The Celery node name of `worker` on this host, as `-n worker@%h` expands it."""
    return f"{worker}@{hostname or socket.gethostname()}"


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def check_redis(url: str, timeout: float) -> Check:
    started = time.monotonic()
    subject = f"redis {without_password(url)}"
    if problem := store.ping(url, timeout):
        return Check(subject, False, problem)
    return Check(subject, True, f"PONG in {(time.monotonic() - started) * 1000:.0f} ms")


def check_worker(node: str, timeout: float) -> Check:
    from worker.celery_app import app

    started = time.monotonic()
    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception as error:  # any failure to ask is an unhealthy node, said in one line
        return Check(node, False, f"cannot ask: {type(error).__name__}: {error}")
    if not any(node in reply for reply in replies):
        return Check(node, False, f"no answer to a ping within {timeout:g} s")
    return Check(node, True, f"pong in {time.monotonic() - started:.1f} s")


def check_node(workers: Sequence[str], timeout: float, directory: Path) -> list[Check]:
    """Redis first; the workers only if it answers (they could not be asked otherwise).

    Only `directory`'s newswatch.yaml is read: a healthcheck needs no feeds, topics or
    alert secrets.
    """
    from worker.celery_app import _redis_url, app, celery_settings

    if not directory.is_dir():
        raise ConfigError([f"{directory}: the config folder does not exist"])
    service = load_service(directory)
    url = _redis_url(service, directory)
    app.conf.update(celery_settings(service, url))
    checks = [check_redis(url, timeout)]
    if checks[0].healthy:
        checks += [check_worker(node_name(worker), timeout) for worker in workers]
    return checks

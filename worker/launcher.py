"""Starts what newswatch needs on this machine: Redis (embedded if none is configured),
Celery workers and beat, as child processes sharing one environment; `supervise` keeps
them running and stops them all together."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis

from worker.config import Config
from worker.errors import NewswatchError
from worker.store.embedded import EmbeddedRedis, end_with_parent, start_redis

# A child that exits more often than this within the window is not restarted again.
MAX_RESTARTS = 5
RESTART_WINDOW = 300.0


@dataclass(frozen=True)
class ChildSpec:
    name: str  # worker, poller, beat
    command: list[str]
    quiet: bool


@dataclass
class Services:
    redis_url: str
    embedded: EmbeddedRedis | None = None
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    # What each child is, by pid, to say so and to start it again.
    specs: dict[int, ChildSpec] = field(default_factory=dict)

    def environment(self, config: Config) -> dict[str, str]:
        env = dict(os.environ)
        # glibc gives each thread that allocates its own heap ("arena"), up to 8 per CPU,
        # and never hands their free space to another: the poller's 16 threads then hold
        # memory no other thread can reuse. Two keep its memory lower under load, at no
        # measurable cost in CPU (bench/memory.py); one set by the user is kept.
        env.setdefault("MALLOC_ARENA_MAX", "2")
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
def redis_for(config: Config, *, own: bool = False) -> Iterator[Services]:
    """A Redis to talk to: the configured one, a running embedded one, or a new embedded one.

    With `own` (`newswatch run`) an embedded Redis is always this process's own: a second
    process that would start one on the same data folder is refused, never joined, so
    the Redis cannot be stopped under it by another.
    """
    url = configured_redis_url(config)
    if url and not (own and _is_embedded(config, url)):
        services = Services(url)
        try:
            yield services
        finally:
            stop_children(services)
        return
    with embedded_owner(config):
        url = configured_redis_url(config)
        if url:  # left behind by an owner that died: stopped, so one process owns it
            _shut_down(url)
        embedded = start_redis(config.data_dir / "redis")
        _url_file(config).write_text(embedded.url)
        services = Services(embedded.url, embedded)
        try:
            yield services
        finally:
            stop_children(services)
            _url_file(config).unlink(missing_ok=True)
            embedded.stop()


def _is_embedded(config: Config, url: str) -> bool:
    return not (os.environ.get("NEWSWATCH_REDIS_URL") or config.service.redis_url)


@contextmanager
def embedded_owner(config: Config) -> Iterator[None]:
    """Hold the data folder's embedded-Redis lock (released when this process ends, however
    it ends); refuse with one line when another process holds it."""
    folder = config.data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "owner.lock").open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise NewswatchError(
                f"another newswatch process (pid {holder}) runs the embedded Redis of "
                f"{config.data_dir}; stop it first, or give this one its own data_dir"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _shut_down(url: str) -> None:
    with suppress(redis.RedisError, OSError):
        redis.Redis.from_url(url, socket_connect_timeout=2).shutdown()


def start_worker(
    services: Services, config: Config, *, concurrency: int | None = None, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """A prefork worker for article processing (CPU-bound); its pool sized as `concurrency`
    says, else as its kind is (`celery_app.WORKER_KINDS`)."""
    command = worker_command("worker", "WARNING" if quiet else "INFO", concurrency)
    return _spawn(services, config, "worker", command, quiet)


def start_poller(
    services: Services, config: Config, *, concurrency: int | None = None, quiet: bool = False
) -> subprocess.Popen[bytes]:
    """A thread-pool worker for feed polls and deliveries (network-bound), sized as
    `start_worker` is."""
    command = worker_command("poller", "WARNING" if quiet else "INFO", concurrency)
    return _spawn(services, config, "poller", command, quiet)


def worker_command(kind: str, loglevel: str = "INFO", concurrency: int | None = None) -> list[str]:
    """The command line of a `worker` (articles) or a `poller` (polls and deliveries)."""
    node = "newswatch" if kind == "worker" else kind
    sizing = ["--concurrency", str(concurrency)] if concurrency else []
    return [
        sys.executable, "-m", "worker.node", kind, "--loglevel", loglevel, "-n", f"{node}@%h",
        *sizing,
    ]  # fmt: skip


def beat_command(loglevel: str, schedule: Path) -> list[str]:
    return [
        sys.executable, "-m", "worker.node", "beat", "--loglevel", loglevel,
        "--schedule", str(schedule),
    ]  # fmt: skip


def start_workers(
    services: Services, config: Config, *, quiet: bool = False, concurrency: int | None = None
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
    command = beat_command("WARNING" if quiet else "INFO", schedule)
    return _spawn(services, config, "beat", command, quiet)


def _spawn(
    services: Services, config: Config, name: str, command: list[str], quiet: bool
) -> subprocess.Popen[bytes]:
    output = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(
        command,
        env=services.environment(config),
        stdout=output,
        stderr=output,
        start_new_session=True,
        preexec_fn=end_with_parent,
    )
    services.children.append(process)
    services.specs[process.pid] = ChildSpec(name, command, quiet)
    return process


@dataclass
class Restarts:
    """When each kind of child was last restarted, to give up on one that keeps dying."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def allow(self, name: str, now: float) -> bool:
        recent = [t for t in self.times.get(name, []) if now - t < RESTART_WINDOW]
        recent.append(now)
        self.times[name] = recent
        return len(recent) <= MAX_RESTARTS


def supervise(
    services: Services, config: Config, echo: Callable[[str], object], every: float = 1.0
) -> int:
    """Keep the children running until SIGTERM or SIGINT; returns the exit code.

    A child that dies is restarted, saying so; one that dies more than MAX_RESTARTS
    times in RESTART_WINDOW seconds stops everything with a line saying why and exit
    code 1. The first signal is a warm shutdown of every child (tasks in hand finish),
    a second one a cold shutdown.
    """
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    restarts = Restarts()
    code = 0
    try:
        while not received and code == 0:
            for child in list(services.children):
                status = child.poll()
                if status is None or received:
                    continue
                spec = services.specs.pop(child.pid, None)
                name = spec.name if spec else f"process {child.pid}"
                if not restarts.allow(name, time.monotonic()):
                    echo(
                        f"newswatch: the {name} exited {MAX_RESTARTS + 1} times within "
                        f"{RESTART_WINDOW:.0f} s (last exit code {status}); stopping everything"
                    )
                    code = 1
                    break
                echo(f"newswatch: the {name} (pid {child.pid}) exited with code {status}; "
                     "restarting it")  # fmt: skip
                services.children.remove(child)
                if spec is not None:
                    _spawn(services, config, name, spec.command, spec.quiet)
            if services.embedded is not None and services.embedded.process.poll() is not None:
                echo(
                    f"newswatch: the embedded Redis exited with code "
                    f"{services.embedded.process.returncode}; stopping everything"
                )
                code = 1
            time.sleep(every)
        if received:
            echo("newswatch: stopping (warm shutdown; a second signal stops at once)")
        stop_children(
            services,
            timeout=config.service.task_time_limit + 15,
            cold=lambda: len(received) > 1,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def stop_children(
    services: Services, timeout: float = 20.0, cold: Callable[[], bool] = lambda: False
) -> None:
    """Warm shutdown (SIGTERM lets workers finish their task); SIGKILL after `timeout`,
    or as soon as `cold()` says so (a second signal)."""
    for child in services.children:
        if child.poll() is None:
            # SIGTERM to the main process only, as `docker stop` does: Celery then stops
            # consuming and lets its pool finish the tasks in hand.
            with suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cold():
        if all(child.poll() is not None for child in services.children):
            break
        time.sleep(0.1)
    for child in services.children:
        if child.poll() is None:
            # Late acks: what a killed worker held is delivered again, or handed out
            # again by the tick from what is staged.
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    services.children.clear()
    services.specs.clear()


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

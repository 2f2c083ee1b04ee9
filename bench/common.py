"""What every benchmark shares: where the data is, how results are written."""

from __future__ import annotations

import json
import multiprocessing
import platform
import statistics
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED_DATA = ROOT.parent / "shared" / "data"


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpus": _cpus()},
        **figures,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"→ {path.relative_to(ROOT)}")
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class FarmHandler(BaseHTTPRequestHandler):
    """A quiet keep-alive handler for the benchmarks' loopback farms."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _FarmServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def _serve(
    make_handler: Callable[..., type[FarmHandler]],
    port: int,
    ready: Any,
    arguments: tuple[Any, ...],
) -> None:
    # 0.0.0.0 so that every 127.0.0.x answers: the farm's feeds spread over many hosts.
    server = _FarmServer(("0.0.0.0", port), make_handler(*arguments))
    ready.set()
    server.serve_forever()


def start_farm(
    make_handler: Callable[..., type[FarmHandler]], *arguments: Any
) -> tuple[int, multiprocessing.Process]:
    """Serve `make_handler(*arguments)` in its own process (its CPU is not ours)."""
    from worker.store.embedded import free_port

    port = free_port()
    ready = multiprocessing.Event()
    process = multiprocessing.Process(
        target=_serve, args=(make_handler, port, ready, arguments), daemon=True
    )
    process.start()
    ready.wait(30)
    return port, process

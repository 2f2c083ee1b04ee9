"""One newswatch process: `python -m worker.node worker` (articles, a prefork pool),
`python -m worker.node poller` (feed polls and deliveries, threads) or
`python -m worker.node beat` (the scheduler), as `newswatch run` and the compose services
start them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Imported by libraries the workers use whenever they are installed, never used by them:
# httpx's command-line client (with rich and Pygments) and trio (an async back end of
# httpcore; the workers' HTTP is synchronous). Some 6 MB in each process, and as much
# again with trio, which the test extras install.
NEVER_USED = ("httpx._main", "trio")


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m worker.node", description="Run one newswatch process until stopped."
    )
    parser.add_argument("kind", choices=("worker", "poller", "beat"))
    parser.add_argument(
        "-n", "--hostname", help="node name; %%h is this host's name (default: KIND@%%h)"
    )
    parser.add_argument(
        "--concurrency", type=int, help="pool size (default: 2 processes, or 16 threads)"
    )
    parser.add_argument("--loglevel", type=str.upper, choices=LOG_LEVELS, default="INFO")
    parser.add_argument(
        "--schedule",
        default="celerybeat-schedule",
        help="beat's own schedule file (disposable: what is due lives in Redis)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    for module in NEVER_USED:
        # None in sys.modules fails its import, as if not installed: both libraries then
        # go without it.
        sys.modules[module] = None  # type: ignore[assignment]
    # Imported only now: `--help` and a mistyped option need no Celery.
    from worker.celery_app import run_beat, run_worker

    if arguments.kind == "beat":
        return run_beat(arguments.schedule, arguments.loglevel)
    node = arguments.hostname or f"{arguments.kind}@%h"
    return run_worker(arguments.kind, node, arguments.concurrency, arguments.loglevel)


if __name__ == "__main__":
    raise SystemExit(main())

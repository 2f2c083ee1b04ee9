"""The fault-injection suite, run as one command with its counts reported.

    python -m bench.faults            # Redis outages of 60 s (the test suite uses 8 s)

Runs tests/integration's fault scenarios (workers killed with SIGKILL mid-delivery,
mid-article and mid-poll; a poller SIGKILLed while it holds a host's only slot; warm
shutdown with tasks in hand; Redis stopped with and without its append-only file; Redis
SIGKILLed and stopped while articles are processed; Redis full; two beats; beat stopped
and started) and writes what each counted: entries, documents, manifest lines, events and
deliveries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, write_result

SCENARIOS = [
    "tests/integration/test_faults.py",
    "tests/integration/test_scheduling_faults.py",
    "tests/integration/test_redis_outage.py",
    "tests/integration/test_host_slots.py",
    "tests/integration/test_redis_full.py",
]


def main(outage_seconds: int = 60) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "faults.jsonl"
        env = {
            **os.environ,
            "NEWSWATCH_FAULT_REPORT": str(report),
            "NEWSWATCH_OUTAGE_SECONDS": str(outage_seconds),
        }
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SCENARIOS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        rows = (
            [json.loads(line) for line in report.read_text().splitlines()]
            if report.exists()
            else []
        )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    for row in rows:
        counts = ", ".join(f"{k} {v}" for k, v in row.items() if k != "scenario")
        print(f"{row['scenario']}: {counts}")
    print(f"pytest: {summary}")
    figures = {
        "outage_seconds": outage_seconds,
        "pytest": summary,
        "passed": result.returncode == 0,
        "scenarios": rows,
    }
    write_result("faults", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

"""Start-up: wall time of the read-only commands and of `poll --once` with no feeds.

Each command runs as a user types it (a fresh interpreter, the installed `newswatch`
script) against a Redis already running, as in production; the baseline is the same
interpreter doing nothing (`python -c pass`), measured in the same run, alternating.
Medians of several runs; the ratio is newswatch's time over the bare interpreter's.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.common import median, write_result
from worker.store.embedded import start_redis

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "figures": ["figures"],
    "alerts": ["alerts"],
    "feeds list": ["feeds", "list"],
    "poll --once (no feeds)": ["poll", "--once"],
}


def _config(folder: Path) -> Path:
    config = folder / "config"
    (config / "topics").mkdir(parents=True)
    topic = {
        "id": "t",
        "title": "Start-up",
        "relevance": {"all": [{"any": ["Korea Utara"]}]},
        "entities": {"north-korea": ["Korea Utara"]},
        "figures": {"troops": {"label": "t", "about": "north-korea", "units": ["tentara"]}},
    }
    (config / "topics" / "t.yaml").write_text(yaml.safe_dump(topic))
    (config / "newswatch.yaml").write_text(yaml.safe_dump({"data_dir": str(folder / "data")}))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    return config


def _wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main(repeats: int = 5) -> dict[str, Any]:
    script = str(Path(sys.executable).with_name("newswatch"))
    with tempfile.TemporaryDirectory(prefix="newswatch-startup-") as folder:
        config = _config(Path(folder))
        server = start_redis(Path(folder) / "redis", append_only=False)
        env = {
            **os.environ,
            "NEWSWATCH_CONFIG_DIR": str(config),
            "NEWSWATCH_REDIS_URL": server.url,
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        bare: list[tuple[float, float]] = []
        try:
            for _ in range(repeats):
                bare.append(_wall([sys.executable, "-c", "pass"], env))
                for name, arguments in COMMANDS.items():
                    times[name].append(_wall([script, *arguments], env))
        finally:
            server.stop()
    baseline = median([wall for wall, _ in bare])
    commands = {
        name: {
            "wall_s_median": round(median([wall for wall, _ in values]), 3),
            "wall_s_max": round(max(wall for wall, _ in values), 3),
            "cpu_s_median": round(median([cpu for _, cpu in values]), 3),
            "times_bare_python": round(median([wall for wall, _ in values]) / baseline, 1),
        }
        for name, values in times.items()
    }
    for name, row in commands.items():
        print(
            f"newswatch {name}: {row['wall_s_median']} s median wall, {row['wall_s_max']} s "
            f"max, {row['cpu_s_median']} s CPU ({row['times_bare_python']}× `python -c pass`)"
        )
    print(f"python -c pass: {baseline:.3f} s median")
    figures = {
        "repeats": repeats,
        "bare_python_s_median": round(baseline, 3),
        "commands": commands,
    }
    write_result("startup", figures)
    return figures


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

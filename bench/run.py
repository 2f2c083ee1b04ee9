"""Runs every benchmark, writes bench/results/*.json and refreshes the README table.

python -m bench.run                 # all
python -m bench.run extraction feeds
python -m bench.run load-news       # the load run on news-shaped pages (bench/load.py --pages)
"""

from __future__ import annotations

import importlib
import sys

from bench.report import update_readme

ALL = [
    "startup",
    "extraction",
    "entries",
    "signals",
    "emerging",
    "figures",
    "delivery",
    "redis_client",
    "feeds",
    "polls",
    "dedupe",
    "load",
    "memory",
    "load-news",
    "growth",
    "web",
    "faults",
]


def main(names: list[str]) -> None:
    for name in names or ALL:
        print(f"== {name}")
        module, _, pages = name.partition("-")
        if pages:
            importlib.import_module(f"bench.{module}").main(pages=pages)
        else:
            importlib.import_module(f"bench.{name}").main()
    update_readme()


if __name__ == "__main__":
    main(sys.argv[1:])

"""Fault scenarios can report their counts: with NEWSWATCH_FAULT_REPORT set to a file, each
appends a JSON line (bench/faults.py runs the suite so and tabulates them)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def report(scenario: str, **counts: object) -> None:
    target = os.environ.get("NEWSWATCH_FAULT_REPORT")
    if target:
        with Path(target).open("a", encoding="utf-8") as stream:
            stream.write(json.dumps({"scenario": scenario, **counts}) + "\n")

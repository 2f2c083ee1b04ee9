"""`newswatch demo --keep DIR` starts from nothing, so its alerts are the demo's."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.demo import run_demo
from worker.errors import NewswatchError


def test_a_kept_folder_in_use_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    earlier = tmp_path / "notes.txt"
    earlier.write_text("an earlier run\n")
    with pytest.raises(NewswatchError, match="not an empty folder"):
        run_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert earlier.read_text() == "an earlier run\n"

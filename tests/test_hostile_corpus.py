"""The hostile corpus says what each of its inputs must come to."""

from __future__ import annotations

from tests.conftest import DATA

HOSTILE = DATA / "hostile"


def rows() -> dict[str, str]:
    table = {}
    for line in (HOSTILE / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("file", "path") and not cells[0].startswith("-"):
            table[cells[0]] = cells[2]
    return table


def test_every_hostile_input_has_an_expected_outcome() -> None:
    table = rows()
    files = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert sorted(files - set(table)) == []
    assert all(table[name] for name in files)
    named = {name for name in table if not name.startswith("/")}
    assert sorted(named - files) == []  # no row for a file that is gone

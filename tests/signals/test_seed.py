"""The seed, read against its hand annotations (tests/data/seed-annotations.json)."""

import json

import pytest

from tests.support import DATA, ROOT, SEED
from worker.config import load_config
from worker.signals.entities import proper_names, tracked_entities
from worker.signals.figures import observe_figures
from worker.signals.numbers import read_quantities
from worker.text import sentences

ANNOTATIONS = json.loads((DATA / "seed-annotations.json").read_text(encoding="utf-8"))
TEXT = SEED.read_text(encoding="utf-8")
LINES = TEXT.split("\n")
ENV = {"ALERT_WEBHOOK_URL": "https://x.example", "ALERT_WEBHOOK_SECRET": "whsec_AAAA"}


def quantities_by_line() -> dict[int, list[tuple[float, str, str | None]]]:
    found: dict[int, list[tuple[float, str, str | None]]] = {}
    for sentence in sentences(TEXT):
        for quantity in read_quantities(sentence.text, "id"):
            found.setdefault(sentence.line, []).append(
                (quantity.value, quantity.qualifier, quantity.unit)
            )
    return found


@pytest.mark.parametrize(
    "figure", ANNOTATIONS["figures"], ids=lambda f: f"line{f['line']}-{f['value']}"
)
def test_every_annotated_figure_is_read_with_value_qualifier_and_unit(figure: dict) -> None:
    found = quantities_by_line().get(figure["line"], [])
    unit = figure["unit"].split()[0]
    assert (figure["value"], figure["qualifier"], unit) in found


def test_nothing_but_the_annotated_figures_is_read() -> None:
    found = quantities_by_line()
    annotated = {(f["line"], f["value"]) for f in ANNOTATIONS["figures"]}
    read = {(line, value) for line, items in found.items() for value, _, _ in items}
    assert read == annotated


@pytest.mark.parametrize("item", ANNOTATIONS["not_figures"], ids=lambda n: n["quote"])
def test_non_figures_are_not_read(item: dict) -> None:
    line = LINES[item["line"] - 1]
    start = line.index(item["quote"])
    for sentence in sentences(line):
        for quantity in read_quantities(sentence.text, "id"):
            offset = line.index(sentence.text)
            assert not (start <= offset + quantity.start < start + len(item["quote"]))


def test_the_topic_figures_in_the_seed() -> None:
    topic = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]
    observed = {
        (o.figure, o.line, o.value, o.qualifier) for o in observe_figures(TEXT, "id", topic)
    }
    expected = {
        (f["figure"], f["line"], f["value"], f["qualifier"])
        for f in ANNOTATIONS["figures"]
        if f["figure"] in topic.figures
    }
    assert observed == expected


def test_tracked_entities_and_names_of_the_seed() -> None:
    topic = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]
    assert tracked_entities(TEXT, topic) == {"north-korea", "russia", "kursk"}
    names = proper_names(TEXT)
    annotated = (
        ANNOTATIONS["entities"]["people"]
        + ANNOTATIONS["entities"]["places"]
        + ANNOTATIONS["entities"]["organisations"]
    )
    # Every annotated entity is inside some extracted name (the extractor is greedy).
    missed = [e for e in annotated if not any(e in n or n in e for n in names)]
    assert missed == []

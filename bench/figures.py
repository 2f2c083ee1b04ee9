"""The figure reader on the development set (tests/data/figures/): precision and recall
per language and per figure, beside a naive baseline read in the same run.

`--set heldout` scores tests/data/figures/heldout/ alone: passages written after the reader
was tuned and never read while tuning it, so its figures are the honest measure.

A reading is right when figure, value, upper and qualifier all match a labelled one.
The baseline is what a first attempt does: the first number within a few words of one
of the figure's unit words, when the sentence names the figure's entity.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.common import ROOT, write_result
from worker.config import TopicSettings
from worker.signals.figures import read_figures
from worker.signals.numbers import read_quantities
from worker.text import fold, name_pattern, sentences

SET = ROOT / "tests" / "data" / "figures"
SETS = {"dev": SET, "heldout": SET / "heldout"}  # both use the dev set's topics and vocab
Reading = tuple[str, float, float | None, str]  # figure, value, upper, qualifier


@dataclass(frozen=True)
class Item:
    id: str
    language: str
    topic: str
    title: str
    text: str
    expect: tuple[Reading, ...]
    tags: tuple[str, ...]


def load_topics(folder: Path = SET) -> dict[str, TopicSettings]:
    """The set's topics: the base topic files plus every language's vocabulary."""
    return {
        topic_id: TopicSettings.model_validate(
            {k: v for k, v in raw.items() if k not in ("seeds", "corpus")}
        )
        for topic_id, raw in merged_topics(folder).items()
    }


def write_config(target: Path) -> None:
    """A config folder holding the set's merged topics, and each passage as
    `passages/<id>.txt`, for `newswatch explain <id>.txt --config`."""
    (target / "topics").mkdir(parents=True, exist_ok=True)
    (target / "newswatch.yaml").write_text("data_dir: data\n")
    for topic_id, raw in merged_topics().items():
        text = yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)
        (target / "topics" / f"{topic_id}.yaml").write_text(text, encoding="utf-8")
    (target / "passages").mkdir(exist_ok=True)
    for item in load_items():
        (target / "passages" / f"{item.id}.txt").write_text(item.text + "\n", encoding="utf-8")


def merged_topics(folder: Path = SET) -> dict[str, dict[str, Any]]:
    topics: dict[str, dict[str, Any]] = {}
    for path in sorted((folder / "topics").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        topics[raw["id"]] = raw
    for path in sorted((folder / "vocab").glob("*.yaml")):
        vocab = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for topic_id, extra in vocab.items():
            topic = topics[topic_id]
            for entity, names in (extra.get("entities") or {}).items():
                topic["entities"].setdefault(entity, []).extend(names)
            for figure, words in (extra.get("figures") or {}).items():
                for key in ("units", "context", "exclude"):
                    if words and words.get(key):
                        topic["figures"][figure].setdefault(key, []).extend(words[key])
    for topic in topics.values():
        # A relevance group naming an entity takes every language's names of that entity.
        for group in topic["relevance"]["all"]:
            for names in topic["entities"].values():
                if set(group["any"]) & set(names):
                    group["any"].extend(n for n in names if n not in group["any"])
    return topics


def _reading(entry: dict[str, Any]) -> Reading:
    upper = entry.get("upper")
    return (
        entry["figure"],
        float(entry["value"]),
        float(upper) if upper is not None else None,
        entry.get("qualifier", "exact"),
    )


def load_items(folder: Path = SET) -> list[Item]:
    items = []
    for path in sorted(folder.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in raw["items"]:
            items.append(
                Item(
                    entry["id"],
                    raw["language"],
                    entry["topic"],
                    entry.get("title") or "",
                    entry["text"],
                    tuple(_reading(e) for e in entry.get("expect") or []),
                    tuple(entry.get("tags") or []),
                )
            )
    return items


def read(item: Item, topic: TopicSettings) -> list[Reading]:
    reading = read_figures(item.text, item.language, topic, title=item.title)
    return [(o.figure, o.value, o.upper, o.qualifier) for o in reading.observations]


def naive(item: Item, topic: TopicSettings, words: int = 3) -> list[Reading]:
    """The first number within `words` words of a unit word, in a sentence naming the entity."""
    found: list[Reading] = []
    for sentence in sentences(item.text):
        folded = fold(sentence.text)
        quantities = read_quantities(sentence.text, item.language)
        for figure_id, figure in topic.figures.items():
            if not name_pattern(tuple(topic.entities[figure.about])).search(folded):
                continue
            units = name_pattern(tuple(figure.units))
            for quantity in quantities:
                around = folded[max(0, quantity.start - 40) : quantity.end + 40]
                near = " ".join(re.findall(r"\S+", around)[: words * 2 + 2])
                if units.search(near):
                    found.append((figure_id, quantity.value, quantity.upper, quantity.qualifier))
                    break
    return found


def _score(counts: Counter[str]) -> dict[str, float | int | None]:
    """Precision is undefined (None) for a reader that read nothing."""
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = round(tp / (tp + fp), 3) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": precision,
        "recall": round(recall, 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _compare(expected: tuple[Reading, ...], got: list[Reading]) -> tuple[Counter[str], list[str]]:
    """True and false positives and misses, keyed overall, by figure; and what went wrong."""
    counts: Counter[str] = Counter()
    wrong = []
    left = Counter(expected)
    for reading in got:
        if left[reading] > 0:
            left[reading] -= 1
            counts["tp"] += 1
            counts[f"tp:{reading[0]}"] += 1
        else:
            counts["fp"] += 1
            counts[f"fp:{reading[0]}"] += 1
            wrong.append(f"+ {reading}")
    for reading, missing in left.items():
        for _ in range(missing):
            counts["fn"] += 1
            counts[f"fn:{reading[0]}"] += 1
            wrong.append(f"- {reading}")
    return counts, wrong


def evaluate(verbose: bool = False, folder: Path = SET) -> dict[str, Any]:
    topics = load_topics()
    items = load_items(folder)
    totals: dict[str, dict[str, Counter[str]]] = {"newswatch": {}, "naive": {}}
    for item in items:
        topic = topics[item.topic]
        for name, reader in (("newswatch", read), ("naive", naive)):
            counts, wrong = _compare(item.expect, reader(item, topic))
            for key in ("all", item.language):
                totals[name].setdefault(key, Counter()).update(counts)
            if verbose and name == "newswatch" and wrong:
                print(f"{item.id}: {item.text[:150]!r}")
                for line in wrong:
                    print(f"    {line}")
    result: dict[str, Any] = {"items": len(items), "languages": {}, "figures": {}}
    for name in ("newswatch", "naive"):
        result[name] = _score(totals[name]["all"])
    for language in sorted({i.language for i in items}):
        result["languages"][language] = {
            "items": sum(1 for i in items if i.language == language),
            "newswatch": _score(totals["newswatch"][language]),
            "naive": _score(totals["naive"][language]),
        }
    for figure in sorted({f for t in topics.values() for f in t.figures}):
        result["figures"][figure] = {
            name: _score(
                Counter(
                    {kind: totals[name]["all"][f"{kind}:{figure}"] for kind in ("tp", "fp", "fn")}
                )
            )
            for name in ("newswatch", "naive")
        }
    return result


def main(verbose: bool = False, which: str = "dev") -> dict[str, Any]:
    result = evaluate(verbose, SETS[which])
    ours, base = result["newswatch"], result["naive"]
    print(
        f"figures ({which}): {result['items']} items; newswatch P {ours['precision']} R {ours['recall']}"
        f" — naive P {base['precision']} R {base['recall']}"
    )
    for language, row in result["languages"].items():
        print(
            f"  {language} ({row['items']:3d}): P {row['newswatch']['precision']} "
            f"R {row['newswatch']['recall']} | naive P {row['naive']['precision']} "
            f"R {row['naive']['recall']}"
        )
    for figure, row in result["figures"].items():
        print(
            f"  {figure:15s} P {row['newswatch']['precision']} "
            f"R {row['newswatch']['recall']} | naive P {row['naive']['precision']} "
            f"R {row['naive']['recall']}"
        )
    write_result("figures" if which == "dev" else f"figures-{which}", result)
    return result


USAGE = "usage: python -m bench.figures [-v] [--set dev|heldout] | --write-config DIR"

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv):
        print(USAGE)
    elif "--write-config" in sys.argv:
        write_config(Path(sys.argv[sys.argv.index("--write-config") + 1]))
    else:
        which = sys.argv[sys.argv.index("--set") + 1] if "--set" in sys.argv[:-1] else "dev"
        if which not in SETS:
            sys.exit(f"figures: unknown set {which!r} (dev or heldout)\n{USAGE}")
        main(verbose="-v" in sys.argv, which=which)

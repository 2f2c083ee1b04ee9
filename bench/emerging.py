"""Emerging names: how many `entity.emerging` suggestions are real people, places or
organisations, on a labelled set of on-topic articles in five languages.

The articles (`tests/data/emerging/articles.yaml`, written for this) are read in
publication order as the pipeline reads them: the names a document may suggest, less those
the topic's seed already uses, counted per document and source; a name is suggested when
it reaches the topic's `emerging.min_documents` and `min_sources`. `labels.yaml` lists
which suggested names are real entities and which are the kinds of noise issue 12 names
(day and month names, agencies, sentence-initial words, German nouns, possessives,
abbreviations, the topic's words). Figures for the candidate filter and, for comparison,
for the raw capitalised sequences it replaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from bench.common import ROOT, write_result
from worker.config import TopicSettings, load_config
from worker.signals.emerging import emerging_names, same_entity
from worker.signals.entities import all_name_keys, proper_names, untracked
from worker.text import fold

DATA = ROOT / "tests" / "data" / "emerging"
SEED = ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt"
ENV = {"ALERT_WEBHOOK_URL": "https://x.example", "ALERT_WEBHOOK_SECRET": "whsec_AAAA"}

Reader = Callable[[str, str, TopicSettings, frozenset[str]], set[str]]


@dataclass(frozen=True)
class Article:
    source: str
    language: str
    published: str
    text: str


def articles() -> list[Article]:
    raw = yaml.safe_load((DATA / "articles.yaml").read_text(encoding="utf-8"))
    found = [
        Article(a["source"], a["language"], str(a["published"]), a["text"]) for a in raw["articles"]
    ]
    return sorted(found, key=lambda a: a.published)


def labels() -> dict[str, Any]:
    return dict(yaml.safe_load((DATA / "labels.yaml").read_text(encoding="utf-8")))


def topic() -> TopicSettings:
    return load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]


def filtered(
    text: str, language: str, settings: TopicSettings, outlets: frozenset[str]
) -> set[str]:
    return emerging_names(text, language, settings, outlets)


def raw(text: str, language: str, settings: TopicSettings, outlets: frozenset[str]) -> set[str]:
    """The capitalised sequences the filter replaced, less the tracked names."""
    return untracked(proper_names(text), settings)


def suggestions(read: Reader, settings: TopicSettings | None = None) -> list[str]:
    """The names suggested as emerging, in the order the pipeline would raise them."""
    settings = settings or topic()
    known = all_name_keys(SEED.read_text(encoding="utf-8"))
    stream = articles()
    outlets = frozenset(a.source for a in stream)
    documents: dict[str, set[int]] = {}
    sources: dict[str, set[str]] = {}
    raised: list[str] = []
    for number, article in enumerate(stream):
        for name in sorted(read(article.text, article.language, settings, outlets)):
            if all(word in known for word in fold(name).split()):
                continue  # the seed already names it
            key = fold(name)
            documents.setdefault(key, set()).add(number)
            sources.setdefault(key, set()).add(article.source)
            due = (
                len(documents[key]) >= settings.emerging.min_documents
                and len(sources[key]) >= settings.emerging.min_sources
            )
            if due and not any(same_entity(name, other) for other in raised):
                raised.append(name)
    return raised


def score(raised: list[str]) -> dict[str, Any]:
    truth = labels()
    real = {fold(n) for n in truth["real"]}
    noise = {fold(name): kind for kind, names in truth["noise"].items() for name in names}
    good = [n for n in raised if fold(n) in real]
    bad = [n for n in raised if fold(n) not in real]
    return {
        "suggested": len(raised),
        "real": len(good),
        "precision": round(len(good) / len(raised), 3) if raised else None,
        "listed_noise": sorted(n for n in raised if fold(n) in noise),
        "not_real": sorted(bad),
        "names": raised,
    }


def main() -> dict[str, Any]:
    stream = articles()
    started = time.perf_counter()
    ours = score(suggestions(filtered))
    elapsed = time.perf_counter() - started
    before = score(suggestions(raw))
    figures = {
        "articles": len(stream),
        "languages": sorted({a.language for a in stream}),
        "sources": len({a.source for a in stream}),
        "newswatch": ours,
        "raw_capitalised": before,
        "seconds": round(elapsed, 2),
    }
    print(
        f"emerging names: {ours['real']}/{ours['suggested']} real "
        f"(precision {ours['precision']}); raw capitalised sequences "
        f"{before['real']}/{before['suggested']} (precision {before['precision']})"
    )
    if ours["not_real"]:
        print("  not real: " + ", ".join(ours["not_real"]))
    write_result("emerging", figures)
    return figures


if __name__ == "__main__":
    main()

"""Throughput of the signals stage: figures, entities and names read per document."""

from __future__ import annotations

import time
from typing import Any

from bench.common import ROOT, median, write_result
from worker.config import load_config
from worker.demo.site import load_story
from worker.signals.emerging import emerging_names
from worker.signals.entities import tracked_entities
from worker.signals.figures import observe_figures

ENV = {"ALERT_WEBHOOK_URL": "https://x.example", "ALERT_WEBHOOK_SECRET": "whsec_AAAA"}


def main(rounds: int = 30) -> dict[str, Any]:
    topic = load_config(ROOT / "config", env=ENV).topics["nk-troops-russia"]
    documents = [((ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt").read_text(), "id")]
    documents += [
        ("\n".join(a.paragraphs), "en" if a.feed == "globalwire" else "id")
        for a in load_story().articles
    ]
    per_document: list[float] = []
    characters = sum(len(text) for text, _ in documents)
    observations = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for text, language in documents:
            t0 = time.perf_counter()
            observations += len(observe_figures(text, language, topic))
            tracked_entities(text, topic)
            emerging_names(text, language, topic)
            per_document.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    figures = {
        "documents": len(documents),
        "rounds": rounds,
        "median_ms_per_document": round(median(per_document), 3),
        "documents_per_second": round(len(per_document) / elapsed, 1),
        "characters_per_second": round(characters * rounds / elapsed),
        "seed_ms": round(median(per_document[:: len(documents)]), 3),
        "observations_per_round": observations // rounds,
    }
    print(
        f"signals: {figures['median_ms_per_document']} ms per document (median), "
        f"{figures['documents_per_second']} documents/s, seed {figures['seed_ms']} ms"
    )
    write_result("signals", figures)
    return figures


if __name__ == "__main__":
    main()

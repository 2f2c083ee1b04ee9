"""Near-duplicate detection: a labelled evaluation set, and the index at scale.

Evaluation: base articles (the 181 article bodies of the extraction benchmark when
../shared is present, plus the seed and the demo story) and, for each, copies that must be
found (different boilerplate, light edits, a tenth of sentences dropped, an update with a
new paragraph) and pairs that must not be merged (other stories, on the same topic too,
and translations). Precision and recall per threshold; the default is chosen from this.

Index: documents inserted into the Redis LSH index of one topic; query latency (median,
99th percentile) and Redis memory per document at each size.

Hot bucket: documents that all share one band (a templated source whose boilerplate fills
it) inserted into one index, with as many ordinary documents beside them; insert cost per
document at the start and at the end, query latency of a document in the hot bucket
against one whose bands are all ordinary (the baseline, same index, same run), and the
share of near copies (about 0.8 similar) of hot-bucket documents still found.
"""

from __future__ import annotations

import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import redis

from bench.common import ROOT, SHARED_DATA, median, percentile, write_result
from worker import dedupe
from worker.demo.site import load_story
from worker.store import Store
from worker.store.embedded import start_redis

THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
BOILERPLATE = [
    ("Baca juga: berita lainnya di Kabar Dunia.", "Ikuti kami di media sosial."),
    ("Advertisement", "Sign up for our newsletter to get the top stories every morning."),
    ("From our wire partners.", "© 2024 Global Wire. All rights reserved. Read more at our site."),
]


def base_texts() -> list[str]:
    texts = [(ROOT / "seeds" / "000_f15ba8ca4d9a1e51.txt").read_text()]
    texts += ["\n".join(a.paragraphs) for a in load_story().articles]
    folder = SHARED_DATA / "article-extraction-benchmark"
    if folder.exists():
        truth = json.loads((folder / "ground-truth.json").read_text())
        texts += [
            item["articleBody"]
            for item in truth.values()
            if len(item["articleBody"].split()) >= 120
        ]
    return texts


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]


def variants(text: str, rng: random.Random) -> dict[str, str]:
    parts = sentences(text)
    head, tail = rng.choice(BOILERPLATE)
    words = text.split()
    edited = list(words)
    for index in rng.sample(range(len(words)), max(1, len(words) // 20)):
        edited[index] = rng.choice(["the", "yang", "reportedly", "said", "officials"])
    dropped = [s for i, s in enumerate(parts) if i % 10 != rng.randrange(10)]
    return {
        "syndicated_boilerplate": f"{head}\n{text}\n{tail}",
        "light_edit_5pct_words": " ".join(edited),
        "tenth_of_sentences_removed": "\n".join(dropped),
        "update_new_paragraph": text + "\nThe figures were revised upward later on Tuesday, "
        "officials said, citing new intelligence reports.",
    }


def evaluate() -> dict[str, Any]:
    rng = random.Random(20241125)
    texts = base_texts()
    fingerprints = [dedupe.fingerprint(t, 0.6).signature for t in texts]
    positives: dict[str, list[float]] = {}
    for text, signature in zip(texts, fingerprints, strict=True):
        for kind, copy in variants(text, rng).items():
            positives.setdefault(kind, []).append(
                dedupe.similarity(signature, dedupe.fingerprint(copy, 0.6).signature)
            )
    negatives: dict[str, list[float]] = {
        "different_stories": [],
        "same_topic_stories": [],
        "translations": [],
    }
    for _ in range(2000):
        a, b = rng.sample(range(len(texts)), 2)
        negatives["different_stories"].append(dedupe.similarity(fingerprints[a], fingerprints[b]))
    story = load_story()
    on_topic = [
        dedupe.fingerprint("\n".join(a.paragraphs), 0.6).signature
        for a in story.articles
        if a.slug not in ("pemilu-daerah-jadwal", "pentagon-10000-tentara-kursk-sindikasi")
    ]
    for i in range(len(on_topic)):
        for j in range(i + 1, len(on_topic)):
            negatives["same_topic_stories"].append(dedupe.similarity(on_topic[i], on_topic[j]))
    by_slug = {a.slug: "\n".join(a.paragraphs) for a in story.articles}
    for en, translated in [
        ("ukraine-11000-north-korean-troops", "intelijen-ukraina-11000-tentara"),
        ("seoul-12000-soldiers-casualties", "seoul-12000-tentara"),
    ]:
        negatives["translations"].append(
            dedupe.similarity(
                dedupe.fingerprint(by_slug[en], 0.6).signature,
                dedupe.fingerprint(by_slug[translated], 0.6).signature,
            )
        )
    # The demo's syndicated copy is the one on-topic pair that must be merged.
    same_topic_copy = dedupe.similarity(
        dedupe.fingerprint(by_slug["pentagon-10000-tentara-kursk"], 0.6).signature,
        dedupe.fingerprint(by_slug["pentagon-10000-tentara-kursk-sindikasi"], 0.6).signature,
    )
    positives.setdefault("same_topic_syndication", []).append(same_topic_copy)

    sweep = []
    all_pos = [s for v in positives.values() for s in v]
    all_neg = [s for v in negatives.values() for s in v]
    for threshold in THRESHOLDS:
        tp = sum(s >= threshold for s in all_pos)
        fp = sum(s >= threshold for s in all_neg)
        sweep.append(
            {
                "threshold": threshold,
                "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
                "recall": round(tp / len(all_pos), 4),
                "recall_by_kind": {
                    k: round(sum(s >= threshold for s in v) / len(v), 4)
                    for k, v in positives.items()
                },
                "false_merges_by_kind": {
                    k: sum(s >= threshold for s in v) for k, v in negatives.items()
                },
            }
        )
    return {
        "base_texts": len(texts),
        "positive_pairs": len(all_pos),
        "negative_pairs": len(all_neg),
        "max_negative_similarity": round(max(all_neg), 4),
        "sweep": sweep,
    }


def index_benchmark(sizes: list[int]) -> list[dict[str, Any]]:
    results = []
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        server = start_redis(Path(folder), append_only=False)
        try:
            client = redis.Redis.from_url(server.url, decode_responses=True)
            store = Store(client)
            inserted = 0
            baseline = int(client.info("memory")["used_memory"])
            for size in sizes:
                started = time.perf_counter()
                while inserted < size:
                    batch = min(5000, size - inserted)
                    signatures = rng.integers(
                        0, 2**32 - 1, size=(batch, dedupe.NUM_PERM), dtype=np.uint32
                    )
                    pipe_store = Store(client)
                    for row in signatures:
                        pipe_store.index_signature(
                            "bench", f"{inserted:016x}", row, dedupe.band_keys(row, 0.6)
                        )
                        inserted += 1
                insert_seconds = time.perf_counter() - started
                memory = int(client.info("memory")["used_memory"]) - baseline
                latencies = []
                for _ in range(1000):
                    query = rng.integers(0, 2**32 - 1, size=dedupe.NUM_PERM, dtype=np.uint32)
                    t0 = time.perf_counter()
                    candidates = store.lsh_candidates("bench", dedupe.band_keys(query, 0.6))
                    store.signatures("bench", sorted(candidates))
                    latencies.append((time.perf_counter() - t0) * 1000)
                row = {
                    "documents": size,
                    "query_ms_median": round(median(latencies), 3),
                    "query_ms_p99": round(percentile(latencies, 0.99), 3),
                    "redis_bytes_per_document": round(memory / size),
                    "insert_seconds_this_step": round(insert_seconds, 1),
                }
                print(
                    f"index {size:>9,} docs: query median {row['query_ms_median']} ms, "
                    f"p99 {row['query_ms_p99']} ms, {row['redis_bytes_per_document']} B/doc"
                )
                results.append(row)
        finally:
            server.stop()
    return results


def _query_ms(store: Store, topic: str, signature: np.ndarray) -> tuple[float, set[str]]:
    started = time.perf_counter()
    candidates = store.lsh_candidates(topic, dedupe.band_keys(signature, 0.6))
    found = store.signatures(topic, sorted(candidates))
    return (time.perf_counter() - started) * 1000, {
        d for d, s in found.items() if dedupe.similarity(signature, s) >= 0.6
    }


def hot_bucket_benchmark(count: int = 20_000, window: int = 1000) -> dict[str, Any]:
    rng = np.random.default_rng(11)
    _, rows = dedupe.lsh_params(dedupe.lsh_threshold(0.6))
    shared = rng.integers(0, 2**32 - 1, size=rows, dtype=np.uint32)

    def hot() -> np.ndarray:
        signature = rng.integers(0, 2**32 - 1, size=dedupe.NUM_PERM, dtype=np.uint32)
        signature[:rows] = shared
        return signature

    def near_copy(signature: np.ndarray) -> np.ndarray:
        copy = signature.copy()
        changed = rng.choice(np.arange(rows, dedupe.NUM_PERM), size=25, replace=False)
        copy[changed] = rng.integers(0, 2**32 - 1, size=25, dtype=np.uint32)
        return copy

    with tempfile.TemporaryDirectory() as folder:
        server = start_redis(Path(folder), append_only=False)
        try:
            store = Store(redis.Redis.from_url(server.url, decode_responses=True))
            hot_docs: list[np.ndarray] = []
            insert_ms: list[float] = []
            for number in range(count):
                for kind, signature in (("h", hot()), ("c", None)):
                    if signature is None:
                        signature = rng.integers(
                            0, 2**32 - 1, size=dedupe.NUM_PERM, dtype=np.uint32
                        )
                    started = time.perf_counter()
                    store.index_signature(
                        "hot", f"{kind}{number:015x}", signature, dedupe.band_keys(signature, 0.6)
                    )
                    if kind == "h":
                        insert_ms.append((time.perf_counter() - started) * 1000)
                        hot_docs.append(signature)
            hot_queries, cold_queries, found = [], [], 0
            probes = rng.choice(count, size=500, replace=False)
            for number in probes:
                copy = near_copy(hot_docs[number])
                elapsed, matches = _query_ms(store, "hot", copy)
                hot_queries.append(elapsed)
                found += f"h{number:015x}" in matches
                cold = rng.integers(0, 2**32 - 1, size=dedupe.NUM_PERM, dtype=np.uint32)
                cold_queries.append(_query_ms(store, "hot", cold)[0])
            expected = float(
                np.mean([dedupe.similarity(hot_docs[n], near_copy(hot_docs[n])) for n in probes])
            )
        finally:
            server.stop()
    figures = {
        "documents_in_hot_bucket": count,
        "ordinary_documents": count,
        "bucket_capacity": store.bucket_capacity,
        "insert_ms_first": round(median(insert_ms[:window]), 3),
        "insert_ms_last": round(median(insert_ms[-window:]), 3),
        "query_ms_median": round(median(hot_queries), 3),
        "query_ms_p99": round(percentile(hot_queries, 0.99), 3),
        "ordinary_query_ms_median": round(median(cold_queries), 3),
        "near_copies_similarity_mean": round(expected, 3),
        "near_copies_found": round(found / len(probes), 4),
    }
    figures["query_ratio_to_ordinary"] = round(
        figures["query_ms_median"] / figures["ordinary_query_ms_median"], 2
    )
    print(
        f"hot bucket, {count:,} documents: insert {figures['insert_ms_first']} ms first "
        f"{window}, {figures['insert_ms_last']} ms last {window}; query "
        f"{figures['query_ms_median']} ms median ({figures['query_ratio_to_ordinary']}× an "
        f"ordinary query, {figures['ordinary_query_ms_median']} ms), p99 "
        f"{figures['query_ms_p99']} ms; near copies found {figures['near_copies_found']}"
    )
    return figures


def main(sizes: list[int] | None = None) -> dict[str, Any]:
    evaluation = evaluate()
    for row in evaluation["sweep"]:
        print(
            f"threshold {row['threshold']}: precision {row['precision']}, "
            f"recall {row['recall']} {row['recall_by_kind']} "
            f"false merges {row['false_merges_by_kind']}"
        )
    hot = hot_bucket_benchmark()
    index = index_benchmark(sizes or [100_000, 1_000_000])
    figures = {
        "evaluation": evaluation,
        "hot_bucket": hot,
        "index": index,
        "default_threshold": 0.6,
        "lsh_threshold": dedupe.lsh_threshold(0.6),
        "lsh_bands_rows": dedupe.lsh_params(dedupe.lsh_threshold(0.6)),
    }
    write_result("dedupe", figures)
    return figures


def hot_only() -> dict[str, Any]:
    """Only the hot-bucket benchmark, written into the existing results."""
    from bench.common import RESULTS

    previous = json.loads((RESULTS / "dedupe.json").read_text())
    figures = {
        k: v for k, v in previous.items() if k not in ("benchmark", "measured_at", "machine")
    }
    figures["hot_bucket"] = hot_bucket_benchmark()
    write_result("dedupe", figures)
    return figures


if __name__ == "__main__":
    if sys.argv[1:] == ["hot"]:
        hot_only()
    else:
        main([int(s) for s in sys.argv[1:]] or None)

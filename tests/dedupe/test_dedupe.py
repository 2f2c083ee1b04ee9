import threading
from pathlib import Path

import numpy as np
import pytest
import redis

from tests.support import SEED, write_config
from worker import dedupe, pipeline
from worker.articles import Document
from worker.articles.corpus import document_id
from worker.config import load_config
from worker.store import Store

SEED_TEXT = SEED.read_text(encoding="utf-8")


def sim(a: str, b: str, threshold: float = 0.6) -> float:
    return dedupe.similarity(
        dedupe.fingerprint(a, threshold).signature, dedupe.fingerprint(b, threshold).signature
    )


def test_a_copy_with_other_boilerplate_is_near_identical() -> None:
    copy = "Baca berita lainnya di Kabar Dunia.\n" + SEED_TEXT + "\nIkuti kami di media sosial."
    assert sim(SEED_TEXT, copy) > 0.9


def test_a_copy_missing_a_tenth_of_its_sentences_is_still_a_duplicate() -> None:
    lines = SEED_TEXT.split("\n")
    trimmed = "\n".join(line for i, line in enumerate(lines) if i % 10 != 3)
    assert sim(SEED_TEXT, trimmed) >= 0.6


def test_different_stories_on_the_same_topic_are_not_merged() -> None:
    other = (
        "Korea Utara membantah telah mengirim tentara ke Rusia.\n"
        "Kementerian Luar Negeri di Pyongyang menyebut laporan itu propaganda Barat.\n"
        "Rusia juga menolak berkomentar soal pasukan Korea Utara di Kursk."
    )
    assert sim(SEED_TEXT, other) < 0.2


def test_lsh_bands_are_below_the_duplicate_threshold() -> None:
    bands, rows = dedupe.lsh_params(dedupe.lsh_threshold(0.6))
    assert bands * rows <= dedupe.NUM_PERM
    # probability that a pair at the duplicate threshold shares at least one band
    assert 1 - (1 - 0.6**rows) ** bands > 0.98


@pytest.fixture
def runtime(tmp_path: Path, redis_url: str) -> pipeline.Runtime:
    return pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)


def doc(url: str, text: str, source: str) -> Document:
    return Document(
        id=document_id(url),
        url=url,
        canonical_url=url,
        title="t",
        text=text,
        published=None,
        language="id",
        source=source,
    )


def test_a_copy_of_the_seed_is_recorded_as_a_copy(runtime: pipeline.Runtime) -> None:
    topic = runtime.config.topics["nk-troops-russia"]
    copy = SEED_TEXT.replace("Pasukan Rusia belum mampu mengusir mereka.\n", "")
    outcome = pipeline.ingest_document(runtime, topic, doc("https://a.example/1", copy, "a"), None)
    assert outcome.status == "copy" and outcome.file is None
    assert list(runtime.config.corpus_dir(topic).glob("*.txt")) == []


def test_the_same_url_with_new_text_is_a_revision(runtime: pipeline.Runtime) -> None:
    topic = runtime.config.topics["nk-troops-russia"]
    text = (
        "Korea Utara mengirim 12.000 tentara ke Rusia, kata Seoul.\n"
        "Pasukan itu ditempatkan di Kursk."
    )
    first = pipeline.ingest_document(runtime, topic, doc("https://a.example/r", text, "a"), None)
    revised = pipeline.ingest_document(
        runtime, topic, doc("https://a.example/r", text + "\nJumlahnya bisa bertambah.", "a"), None
    )
    assert (first.status, revised.status) == ("new", "revision")
    assert first.file == revised.file
    path = runtime.config.corpus_dir(topic) / str(first.file)
    assert path.read_text().endswith("Jumlahnya bisa bertambah.")
    manifest = (runtime.config.corpus_dir(topic) / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 2 and '"revision": 1' in manifest[1]


def test_two_workers_ingesting_the_same_story_at_once_make_one_document(
    tmp_path: Path, redis_url: str
) -> None:
    config = load_config(write_config(tmp_path))
    topic = config.topics["nk-troops-russia"]
    story = (
        "Seoul menyebut Korea Utara telah mengirim sekitar 12.000 tentara ke Rusia.\n"
        "Sebagian pasukan itu kini berada di wilayah Kursk.\n"
        "Pyongyang berencana mengirim lebih banyak pasukan tahun depan."
    )
    barrier = threading.Barrier(2)
    results = []

    def worker(url: str, source: str) -> None:
        rt = pipeline.Runtime(config, redis_url)  # its own Redis connection, like a process
        barrier.wait()
        results.append(pipeline.ingest_document(rt, topic, doc(url, story, source), None))

    threads = [
        threading.Thread(target=worker, args=(f"https://{s}.example/x", s))
        for s in ("alpha", "beta")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status for r in results) == ["copy", "new"]
    assert len(list(config.corpus_dir(topic).glob("*.txt"))) == 1
    events = [e for r in results for e in r.events if e.type == "figure.changed"]
    assert len(events) == 1


def test_minhash_estimates_jaccard_similarity() -> None:
    shared = {f"shared {i}".encode() for i in range(600)}
    a = shared | {f"only a {i}".encode() for i in range(200)}
    b = shared | {f"only b {i}".encode() for i in range(200)}
    estimate = dedupe.similarity(dedupe.minhash(a), dedupe.minhash(b))
    assert abs(estimate - 600 / 1000) < 0.12
    assert dedupe.similarity(dedupe.minhash(a), dedupe.minhash(set(a))) == 1.0


def test_a_band_every_page_shares_keeps_only_its_newest_documents(redis_url: str) -> None:
    store = Store(redis.Redis.from_url(redis_url, decode_responses=True), bucket_capacity=4)
    rng = np.random.default_rng(5)
    _, rows = dedupe.lsh_params(dedupe.lsh_threshold(0.6))
    template = rng.integers(0, 2**32 - 1, size=rows, dtype=np.uint32)
    signatures = []
    for number in range(10):
        signature = rng.integers(0, 2**32 - 1, size=dedupe.NUM_PERM, dtype=np.uint32)
        signature[:rows] = template  # the band the template's boilerplate fills
        signatures.append(signature)
        store.index_signature("t", f"{number:016x}", signature, dedupe.band_keys(signature, 0.6))
    hot_band = dedupe.band_keys(signatures[0], 0.6)[:1]
    assert store.lsh_candidates("t", hot_band) == {f"{n:016x}" for n in range(6, 10)}
    # An early document has left the hot bucket but is still found by its other bands.
    copy = signatures[0].copy()
    copy[-10:] = 0
    assert f"{0:016x}" in store.lsh_candidates("t", dedupe.band_keys(copy, 0.6))

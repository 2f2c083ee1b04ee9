import json
from multiprocessing import Pool
from pathlib import Path

from worker.articles.corpus import (
    Corpus,
    ManifestRecord,
    document_id,
    file_name,
    list_documents,
    text_sha256,
)


def record(i: int, name: str | None = None) -> ManifestRecord:
    return ManifestRecord(file=name, id=f"{i:016x}", url=f"https://x.example/{i}",
                          canonical_url=f"https://x.example/{i}", title="Judul " * 50,
                          source="x.example", feed=None, published=None,
                          fetched="2024-11-04T00:00:00Z", language="id", sha256="0" * 64)


def _append_many(args: tuple[str, int]) -> None:
    folder, start = args
    corpus = Corpus(Path(folder))
    for i in range(start, start + 200):
        corpus.append(record(i))


def test_ids_are_16_hex_digits_stable_for_the_url() -> None:
    first = document_id("https://kabardunia.example/a")
    assert first == document_id("https://kabardunia.example/a")
    assert len(first) == 16 and int(first, 16) >= 0
    assert first != document_id("https://kabardunia.example/b")
    assert file_name(7, first) == f"007_{first}.txt"
    assert file_name(1234, first) == f"1234_{first}.txt"


def test_documents_are_written_atomically_and_rewritten_in_place(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "c")
    path = corpus.write_document("001_00000000000000aa.txt", "satu\ndua")
    corpus.write_document("001_00000000000000aa.txt", "satu\ndua\ntiga")
    assert path.read_bytes() == b"satu\ndua\ntiga"
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["001_00000000000000aa.txt"]
    assert [d.sequence for d in list_documents(tmp_path / "c")] == [1]


def test_concurrent_writers_never_tear_a_manifest_line(tmp_path: Path) -> None:
    with Pool(4) as pool:
        pool.map(_append_many, [(str(tmp_path), n * 1000) for n in range(4)])
    lines = (tmp_path / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 800
    assert len({json.loads(line)["id"] for line in lines}) == 800


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path)
    corpus.append(record(1, "001_0000000000000001.txt"))
    with (tmp_path / "manifest.jsonl").open("a") as stream:
        stream.write('{"file": "002_')
    assert [r.id for r in corpus.records()] == [f"{1:016x}"]


def test_manifest_lines_carry_the_schema_fields(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path)
    corpus.append(record(1, "001_0000000000000001.txt"))
    line = json.loads((tmp_path / "manifest.jsonl").read_text())
    for key in ("file", "id", "url", "canonical_url", "title", "source", "feed", "published",
                "fetched", "language", "sha256"):
        assert key in line
    assert "duplicate_of" not in line
    assert text_sha256("a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"

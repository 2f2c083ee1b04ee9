import errno
import json
from multiprocessing import Pool
from pathlib import Path

import pytest

import worker.articles.corpus as corpus_module
from worker.articles.corpus import (
    Corpus,
    ManifestRecord,
    document_id,
    file_name,
    list_documents,
    text_sha256,
)


def record(i: int, name: str | None = None) -> ManifestRecord:
    return ManifestRecord(
        file=name,
        id=f"{i:016x}",
        url=f"https://x.example/{i}",
        canonical_url=f"https://x.example/{i}",
        title="Judul " * 50,
        source="x.example",
        feed=None,
        published=None,
        fetched="2024-11-04T00:00:00Z",
        language="id",
        sha256="0" * 64,
    )


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
    for key in (
        "file",
        "id",
        "url",
        "canonical_url",
        "title",
        "source",
        "feed",
        "published",
        "fetched",
        "language",
        "sha256",
    ):
        assert key in line
    assert "duplicate_of" not in line
    assert text_sha256("a") == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def _failing_write(error: int, keep: int | None):
    """os.write that writes `keep` bytes of what it is given (None: all) then fails."""
    import os as real_os

    real = real_os.write

    def write(fd: int, data) -> int:
        if keep:
            real(fd, bytes(data)[:keep])
        raise OSError(error, real_os.strerror(error))

    return write


@pytest.mark.parametrize(("error", "keep"), [(errno.ENOSPC, 40), (errno.EIO, 1), (errno.ENOSPC, 0)])
def test_a_failed_manifest_write_leaves_no_half_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int, keep: int
) -> None:
    corpus = Corpus(tmp_path / "c")
    corpus.append(record(1, "001_a.txt"))
    before = corpus.manifest_path.read_bytes()
    monkeypatch.setattr(corpus_module.os, "write", _failing_write(error, keep))
    with pytest.raises(OSError) as raised:
        corpus.append(record(2, "002_b.txt"))
    assert raised.value.errno == error
    monkeypatch.undo()
    assert corpus.manifest_path.read_bytes() == before
    corpus.append(record(3, "003_c.txt"))
    assert [r.file for r in corpus.records()] == ["001_a.txt", "003_c.txt"]


def test_a_full_disk_fails_the_append(tmp_path: Path) -> None:
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    if not Path("/dev/full").exists():
        pytest.skip("/dev/full is absent on this system")
    corpus = Corpus(tmp_path / "c")
    (tmp_path / "c").mkdir()
    corpus.manifest_path.symlink_to("/dev/full")
    with pytest.raises(OSError) as raised:
        corpus.append(record(1, "001_a.txt"))
    assert raised.value.errno == errno.ENOSPC


def test_readers_skip_torn_lines_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = Corpus(tmp_path / "c")
    corpus.append(record(1, "001_a.txt"))
    with corpus.manifest_path.open("ab") as stream:  # a writer killed mid-line, twice
        stream.write(record(2, "002_b.txt").to_json().encode()[:50])
    corpus.append(record(3, "003_c.txt"))
    with corpus.manifest_path.open("ab") as stream:
        stream.write(b'{"file": "004_d.txt", "id": "\xe2\x82')  # cut inside a character
    assert [r.file for r in corpus.records()] == ["001_a.txt", "003_c.txt"]
    torn = [r.getMessage() for r in caplog.records if "torn" in r.getMessage()]
    assert len(torn) == 2 and "line 2" in torn[0] and "line 4" in torn[1]
    corpus.append(record(5, "005_e.txt"))  # the torn tail is ended, not joined to this line
    assert [r.file for r in corpus.records()] == ["001_a.txt", "003_c.txt", "005_e.txt"]


def test_a_document_is_as_readable_as_the_manifest(tmp_path: Path) -> None:
    """The corpus is read by people (a compose bind mount, a shared folder), not only by
    the worker's own user: documents get the manifest's permissions, not mkstemp's 0600."""
    corpus = Corpus(tmp_path / "c")
    corpus.append(record(1, "001_00000000000000aa.txt"))
    path = corpus.write_document("001_00000000000000aa.txt", "satu\ndua")
    assert path.stat().st_mode & 0o777 == corpus.manifest_path.stat().st_mode & 0o777
    assert path.stat().st_mode & 0o044 == 0o044  # group and others can read (umask 022)


def test_a_failed_document_write_keeps_the_old_text_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = Corpus(tmp_path / "c")
    corpus.write_document("001_00000000000000aa.txt", "satu\ndua")

    def failing_fsync(fd: int) -> None:  # the disk reports the error when flushed
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(corpus_module.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        corpus.write_document("001_00000000000000aa.txt", "tiga\nempat")
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["001_00000000000000aa.txt"]
    assert (tmp_path / "c" / "001_00000000000000aa.txt").read_text() == "satu\ndua"

"""Pages to documents with the store: recurring boilerplate, size limits, ingest, reindex."""

import errno
import json
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from tests.support import DATA, SEED, write_config
from worker import pipeline
from worker.articles.corpus import Corpus
from worker.cli import cli
from worker.config import load_config
from worker.demo.servers import LoopbackServer
from worker.feeds import Entry

FOOTER = "Ikuti saluran WhatsApp Kabar Dunia untuk mendapatkan berita terkini setiap hari"


def page(n: int) -> str:
    body = "".join(
        f"<p>Paragraf {n}.{i}: Korea Utara mengirim pasukan ke Rusia, kata pejabat "
        f"Seoul dalam laporan nomor {n} yang dirilis hari ini.</p>"
        for i in range(4)
    )
    return (
        f"<html lang='id'><head><title>Berita {n}</title></head><body><article>"
        f"<h1>Berita {n}</h1>{body}<p>{FOOTER}</p></article></body></html>"
    )


def entry(url: str, content: str = "") -> Entry:
    return Entry(id=url, link=url, title="t", summary="", content=content, published=None)


def test_lines_recurring_across_a_source_become_boilerplate(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    texts = []
    for n in range(5):
        site.serve(f"/{n}", page(n))
        document = pipeline.entry_to_document(rt, entry(f"{site.base}/{n}"), "kabardunia")
        assert document is not None
        texts.append(document.text)
    assert [FOOTER in text for text in texts] == [True, True, True, False, False]
    assert texts[4].count("\n") == 3  # the four body paragraphs remain


def test_a_page_over_the_size_limit_falls_back_to_the_feeds_content(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    config = load_config(write_config(tmp_path, service={"max_download_bytes": 2000}))
    rt = pipeline.Runtime(config, redis_url)
    site.serve("/big", page(1) + "<!--" + "x" * 5000 + "-->")
    summary = (
        "<p>Korea Utara mengirim 12.000 tentara ke Rusia, kata badan intelijen Seoul "
        "pada Selasa.</p><p>Sebagian pasukan itu kini berada di wilayah Kursk, menurut "
        "laporan yang sama.</p>"
    )
    document = pipeline.entry_to_document(rt, entry(f"{site.base}/big", summary), "x")
    assert document is not None
    assert document.text.startswith("Korea Utara mengirim 12.000 tentara")


def test_ingest_runs_files_through_the_pipeline(
    tmp_path: Path, redis_url: str, monkeypatch
) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    text_file = tmp_path / "laporan.txt"
    text_file.write_text(
        "Seoul menyebut Korea Utara telah mengirim sekitar 12.000 tentara ke "
        "Rusia.\nSebagian besar pasukan itu kini berada di wilayah Kursk, dan "
        "lebih banyak lagi bisa menyusul tahun depan.\n"
    )
    result = CliRunner().invoke(
        cli,
        [
            "ingest",
            str(DATA / "pages" / "seed_wrapped.html"),
            str(text_file),
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "seed_wrapped.html: nk-troops-russia: copy" in lines[0]
    assert "laporan.txt: nk-troops-russia: new → 001_" in result.output
    assert "North Korean troops in Russia: about 12,000 (was about 10,000)" in result.output
    missing = CliRunner().invoke(cli, ["ingest", "/no/such/file", "--config", str(config)])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_reindex_rebuilds_the_indexes_from_the_corpus(
    tmp_path: Path, redis_url: str, monkeypatch
) -> None:
    config_dir = write_config(tmp_path)
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    rt = pipeline.Runtime(load_config(config_dir), redis_url)
    topic = rt.config.topics["nk-troops-russia"]
    from tests.dedupe.test_dedupe import doc

    text = (
        "Seoul menyebut Korea Utara telah mengirim sekitar 12.000 tentara ke Rusia.\n"
        "Sebagian besar pasukan itu kini berada di wilayah Kursk."
    )
    first = pipeline.ingest_document(rt, topic, doc("https://a.example/1", text, "a"), None)
    assert first.status == "new"
    redis.Redis.from_url(redis_url).flushall()
    result = CliRunner().invoke(cli, ["reindex", "--config", str(config_dir)])
    assert result.exit_code == 0, result.output
    assert "next document number 002" in result.output
    rt = pipeline.Runtime(load_config(config_dir), redis_url)
    again = pipeline.ingest_document(rt, topic, doc("https://b.example/2", text, "b"), None)
    assert again.status == "copy" and again.events == []  # the figure was rebuilt, no alert
    figure = rt.store.figure("nk-troops-russia", "nk_troops_in_russia").confirmed
    assert figure is not None and figure.value == 12000
    seed = rt.store.document("nk-troops-russia", SEED.stem.split("_")[1])
    assert seed is not None and seed.folder == "seeds"
    copies = [
        json.loads(line)
        for line in (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    ]
    assert [c.get("duplicate_of") for c in copies] == [None, first_id(first)]


def first_id(outcome: pipeline.IngestOutcome) -> str:
    assert outcome.file is not None
    return outcome.file.split("_")[1].removesuffix(".txt")


ORIGINAL = """<html lang="id"><head><title>Asli</title></head><body><article><h1>Asli</h1>
<p>Kementerian pertahanan Korea Selatan mengatakan sekitar 11.000 tentara Korea Utara berada di
wilayah Kursk, Rusia, dan sebagian sudah ikut bertempur.</p>
<p>Pejabat itu menambahkan bahwa jumlah korban di antara pasukan tersebut masih belum jelas.</p>
</article></body></html>"""


def test_a_page_on_another_site_cannot_take_over_a_held_document(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    """Another host's page declares rel=canonical to an article already held: the held
    file keeps its own text, and the claimant is kept apart under its own URL."""
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    port = site.base.rsplit(":", 1)[1]
    site.serve("/berita/asli", ORIGINAL)
    claim = (DATA / "hostile" / "page-foreign-canonical.html").read_text().replace("{PORT}", port)
    with LoopbackServer(("127.0.0.2", 0)) as other:
        other.serve("/klaim", claim)
        first = pipeline.process_entry(
            rt, None, entry(f"{site.base}/berita/asli"), ["nk-troops-russia"]
        )
        [held] = first.documents
        before = (tmp_path / "corpus" / held).read_text()
        second = pipeline.process_entry(
            rt, None, entry(f"{other.base}/klaim"), ["nk-troops-russia"]
        )
    assert (tmp_path / "corpus" / held).read_text() == before
    assert "11.000 tentara" in before
    [outcome] = second.outcomes
    assert outcome.status == "new" and outcome.file != held
    claimed = (tmp_path / "corpus" / outcome.file).read_text()
    assert "menarik seluruh tentaranya" in claimed
    records = [
        json.loads(line)
        for line in (tmp_path / "corpus" / "manifest.jsonl").read_text().splitlines()
    ]
    assert [r["canonical_url"] for r in records] == [
        f"{site.base}/berita/asli",
        f"{other.base}/klaim",
    ]


def test_a_held_document_is_revised_only_from_its_own_site(
    tmp_path: Path, redis_url: str, site: LoopbackServer
) -> None:
    """The pipeline's own guard, for an identity that reached it some other way."""
    from dataclasses import replace

    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    site.serve("/berita/asli", ORIGINAL)
    [held] = pipeline.process_entry(
        rt, None, entry(f"{site.base}/berita/asli"), ["nk-troops-russia"]
    ).documents
    before = (tmp_path / "corpus" / held).read_text()
    original = rt.store.document("nk-troops-russia", held.split("_")[1].removesuffix(".txt"))
    assert original is not None
    impostor = pipeline.Document(
        id=held.split("_")[1].removesuffix(".txt"),
        url="http://127.0.0.2:9/klaim",
        canonical_url=f"{site.base}/berita/asli",
        title="Klaim",
        text=before.replace("11.000", "90.000") + "\nKalimat tambahan dari situs lain.",
        published=None,
        language="id",
        source="lain",
    )
    [outcome] = pipeline.process_document(rt, impostor, ["nk-troops-russia"], None).outcomes
    assert (tmp_path / "corpus" / held).read_text() == before
    assert outcome.file != held
    revised = replace(impostor, url=f"{site.base}/berita/asli?ref=2")
    [outcome] = pipeline.process_document(rt, revised, ["nk-troops-russia"], None).outcomes
    assert outcome.status == "revision" and outcome.file == held


def test_a_full_disk_fails_the_entry_and_the_retry_writes_it_once(
    tmp_path: Path, redis_url: str, site: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = pipeline.Runtime(load_config(write_config(tmp_path)), redis_url)
    site.serve("/berita/asli", ORIGINAL)
    real_append = Corpus.append

    def full(self: Corpus, record) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Corpus, "append", full)
    with pytest.raises(OSError):
        pipeline.process_entry(rt, None, entry(f"{site.base}/berita/asli"), ["nk-troops-russia"])
    corpus = tmp_path / "corpus"
    assert list(corpus.glob("*.txt")) == []  # no document the manifest does not name
    monkeypatch.setattr(Corpus, "append", real_append)
    [written] = pipeline.process_entry(
        rt, None, entry(f"{site.base}/berita/asli"), ["nk-troops-russia"]
    ).documents
    assert [p.name for p in corpus.glob("*.txt")] == [written]
    assert len((corpus / "manifest.jsonl").read_text().splitlines()) == 1


def test_reindex_skips_a_torn_manifest_line_with_a_warning(
    tmp_path: Path, redis_url: str, site: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    rt = pipeline.Runtime(load_config(config), redis_url)
    site.serve("/berita/asli", ORIGINAL)
    [written] = pipeline.process_entry(
        rt, None, entry(f"{site.base}/berita/asli"), ["nk-troops-russia"]
    ).documents
    manifest = tmp_path / "corpus" / "manifest.jsonl"
    line = manifest.read_text()
    manifest.write_text(line[:70] + line)  # a torn line, then the whole one
    monkeypatch.setenv("NEWSWATCH_REDIS_URL", redis_url)
    result = CliRunner().invoke(cli, ["reindex", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "nk-troops-russia: reindexed" in result.output
    held = rt.store.document("nk-troops-russia", written.split("_")[1].removesuffix(".txt"))
    assert held is not None and held.url == f"{site.base}/berita/asli"

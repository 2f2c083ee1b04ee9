"""The corpus index: built from the folder and its manifest, searched by words, and kept
current by reading only what was appended."""

from __future__ import annotations

from pathlib import Path

from worker.articles.corpus import Corpus, ManifestRecord, document_id, file_name, text_sha256
from worker.web.corpus_index import CorpusIndex, match_expression


def add(corpus: Corpus, sequence: int, url: str, title: str, text: str, **extra: object) -> str:
    doc_id = document_id(url)
    name = file_name(sequence, doc_id)
    corpus.write_document(name, text)
    corpus.append(
        ManifestRecord(
            file=name,
            id=doc_id,
            url=url,
            canonical_url=url,
            title=title,
            source="Global Wire",
            feed=None,
            published=f"2024-11-{sequence:02d}T08:00:00+00:00",
            fetched="2024-11-20T00:00:00Z",
            language="en",
            sha256=text_sha256(text),
            **extra,  # type: ignore[arg-type]
        )
    )
    return doc_id


def copy_of(corpus: Corpus, original: str, url: str) -> None:
    corpus.append(
        ManifestRecord(
            file=None,
            id=document_id(url),
            url=url,
            canonical_url=url,
            title="Copy",
            source="Other Wire",
            feed=None,
            published=None,
            fetched="2024-11-20T00:00:00Z",
            language="en",
            sha256="0" * 64,
            duplicate_of=original,
            similarity=0.91,
        )
    )


def test_search_finds_documents_by_every_word_and_by_prefix(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    first = add(
        corpus,
        1,
        "https://a.example/1",
        "Troops in Kursk",
        "North Korean troops reached the Kursk region.\nOfficials in Seoul confirmed it.",
    )
    add(corpus, 2, "https://a.example/2", "Harvest", "The rice harvest in Jeolla was early.")
    index = CorpusIndex(tmp_path / "index.sqlite3")
    assert index.refresh("t", corpus.directory) == 2

    hits = index.search("t", "kursk troops")
    assert [d.id for d in hits.documents] == [first] and hits.total == 1
    assert "\x02Kursk\x03" in (hits.documents[0].snippet or "")
    assert index.search("t", "Korea").total == 1  # a prefix of "Korean"
    assert index.search("t", "kursk harvest").total == 0  # every word is required
    assert index.search("other-topic", "kursk").total == 0
    assert index.search("t", "topic").total == 0  # the index's own topic terms are not text


def test_operators_and_quotes_in_a_query_are_words_not_syntax(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    add(corpus, 1, "https://a.example/1", "A", "NOT a drill: troops OR tanks near Kursk")
    index = CorpusIndex(tmp_path / "index.sqlite3")
    index.refresh("t", corpus.directory)
    assert match_expression('"kursk" OR ) (') == '"kursk"* "OR"*'
    assert index.search("t", 'Kursk" NOT (').total == 1
    assert index.search("t", "   ").total == 0


def test_appended_documents_revisions_and_copies_are_read_incrementally(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    first = add(corpus, 1, "https://a.example/1", "First", "Troops in Kursk.")
    index = CorpusIndex(tmp_path / "index.sqlite3")
    assert index.refresh("t", corpus.directory) == 1
    assert index.refresh("t", corpus.directory) == 0  # nothing new: nothing read

    second = add(corpus, 2, "https://a.example/2", "Second", "Artillery shells from Pyongyang.")
    copy_of(corpus, first, "https://b.example/copy")
    # A revision of the first document: same file, new text, revision 1.
    corpus.write_document(file_name(1, first), "Troops withdrawn from Kursk.")
    corpus.append(
        ManifestRecord(
            file=file_name(1, first),
            id=first,
            url="https://a.example/1",
            canonical_url="https://a.example/1",
            title="First, revised",
            source="Global Wire",
            feed=None,
            published="2024-11-01T08:00:00+00:00",
            fetched="2024-11-21T00:00:00Z",
            language="en",
            sha256=text_sha256("Troops withdrawn from Kursk."),
            revision=1,
        )
    )
    assert index.refresh("t", corpus.directory) == 2

    assert [d.id for d in index.documents("t").documents] == [second, first]
    assert index.search("t", "withdrawn").documents[0].title == "First, revised"
    assert index.search("t", "pyongyang").total == 1
    revised = index.document("t", first)
    assert revised is not None and revised.copies == 1
    lines = index.manifest_lines("t", first)
    assert [(r.revision, r.duplicate_of) for r in lines] == [(0, None), (0, first), (1, None)]


def test_a_line_being_written_waits_for_its_end(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    add(corpus, 1, "https://a.example/1", "First", "Troops in Kursk.")
    name = file_name(2, document_id("https://a.example/2"))
    corpus.write_document(name, "Drones over Belgorod.")
    record = ManifestRecord(
        file=name,
        id=document_id("https://a.example/2"),
        url="https://a.example/2",
        canonical_url="https://a.example/2",
        title="Drones",
        source="Global Wire",
        feed=None,
        published=None,
        fetched="2024-11-20T00:00:00Z",
        language="en",
        sha256="1" * 64,
    )
    line = record.to_json() + "\n"
    with corpus.manifest_path.open("a", encoding="utf-8") as stream:
        stream.write(line[:20])
    index = CorpusIndex(tmp_path / "index.sqlite3")
    index.refresh("t", corpus.directory)
    # The file is listed (found in the folder) but its title waits for the whole line.
    assert index.document("t", record.id) is not None
    assert index.document("t", record.id).title == ""  # type: ignore[union-attr]
    with corpus.manifest_path.open("a", encoding="utf-8") as stream:
        stream.write(line[20:])
    index.refresh("t", corpus.directory)
    assert index.document("t", record.id).title == "Drones"  # type: ignore[union-attr]


def test_seeds_and_files_without_a_manifest_line_are_indexed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "000_f15ba8ca4d9a1e51.txt").write_text("Pasukan Korea Utara tiba di Kursk.")
    corpus = tmp_path / "corpus"
    index = CorpusIndex(tmp_path / "index.sqlite3")
    assert index.refresh("t", corpus, seeds) == 1
    found = index.search("t", "pasukan")
    assert found.total == 1 and found.documents[0].folder == "seeds"


def test_the_index_survives_a_restart_and_a_replaced_manifest(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path / "corpus")
    add(corpus, 1, "https://a.example/1", "First", "Troops in Kursk.")
    path = tmp_path / "index.sqlite3"
    CorpusIndex(path).refresh("t", corpus.directory)
    reopened = CorpusIndex(path)
    assert reopened.refresh("t", corpus.directory) == 0
    assert reopened.search("t", "kursk").total == 1
    # A manifest replaced by a shorter one (restored from a backup): read again from the top.
    lines = corpus.manifest_path.read_text().splitlines(keepends=True)
    corpus.manifest_path.unlink()
    corpus.manifest_path.write_text(lines[0])
    reopened.refresh("t", corpus.directory)
    assert reopened.search("t", "kursk").total == 1
    assert len(reopened.manifest_lines("t", document_id("https://a.example/1"))) == 1

"""Incremental indexing of folders (through the documents converter) and JSONL, plus chunking."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from memento_core.text.chunks import chunk_text
from memento_servers.search.config import SearchSettings
from memento_servers.search.errors import IndexingError
from memento_servers.search.indexer import index_paths
from memento_servers.search.local import LocalBackend, Retrieval
from memento_servers.search.store import ChunkStore

LONG = "\n\n".join(f"Paragraph {i} talks about tidal energy and turbines number {i}." for i in range(120))


def make_folder(root: Path) -> Path:
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "notes.md").write_text("# Glacier notes\n\nGlaciers carve fjords over thousands of years.")
    (docs / "page.html").write_text("<html><head><title>Volcano page</title></head><body><p>Basalt lava flows.</p></body></html>")
    (docs / "sub" / "long.txt").write_text(LONG)
    (docs / ".hidden.md").write_text("never indexed")
    (docs / "data.jsonl").write_text(
        json.dumps({"_id": "d1", "title": "Coral &amp; reefs", "text": "Reefs bleach in warm water.", "url": "https://reef.example/"})
        + "\n"
        + json.dumps({"_id": "d2", "text": "Mangroves protect coasts."})
        + "\n"
    )
    return docs


def settings_for(tmp_path: Path) -> SearchSettings:
    return SearchSettings(index_dir=tmp_path / "index", chunk_chars=500, chunk_overlap=50)


def test_index_is_incremental_and_removes_deleted_files(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    first = index_paths([docs], settings, embedder=hash_embedder)
    assert (first.files_seen, first.files_indexed, first.files_failed) == (4, 4, 0)
    assert first.documents == 5 and first.total_chunks > 5  # the long text was chunked
    embedded = hash_embedder.calls

    again = index_paths([docs], settings, embedder=hash_embedder)
    assert (again.files_unchanged, again.files_indexed, again.chunks_embedded) == (4, 0, 0)
    assert hash_embedder.calls == embedded

    (docs / "notes.md").write_text("# Glacier notes\n\nGlaciers carve fjords and moraines.")
    os.utime(docs / "page.html", ns=(1, 1))  # new mtime, same content
    (docs / "sub" / "long.txt").unlink()
    changed = index_paths([docs], settings, embedder=hash_embedder)
    assert (changed.files_indexed, changed.files_unchanged, changed.files_removed) == (1, 2, 1)
    assert changed.chunks_embedded == 1
    store = ChunkStore(settings.index_dir, settings.corpus)
    assert not any("long.txt" in source for source in store.source_states())
    assert changed.total_chunks == 4


def test_indexed_documents_are_searchable_with_titles_urls_and_ids(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    index_paths([docs], settings, embedder=hash_embedder)
    store = ChunkStore(settings.index_dir, settings.corpus)
    for mode in ("fts", "vector", "hybrid"):
        backend = LocalBackend(store, hash_embedder, Retrieval(mode=mode))
        results = backend.search_blocking("reefs bleach warm water", 3)
        assert results[0].id == "d1", mode
    top = LocalBackend(store, hash_embedder, Retrieval()).search_blocking("reefs bleach", 1)[0]
    assert (top.title, top.url, top.source, top.chunk) == ("Coral & reefs", "https://reef.example/", "local", 0)
    html = LocalBackend(store, hash_embedder, Retrieval(mode="fts")).search_blocking("basalt lava", 1)[0]
    assert html.title == "Volcano page" and html.url == (docs / "page.html").resolve().as_uri()
    mangrove = LocalBackend(store, hash_embedder, Retrieval(mode="fts")).search_blocking("mangroves", 1)[0]
    assert mangrove.url == "local://data/d2"


def test_long_documents_give_one_result_per_document(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    index_paths([docs], settings, embedder=hash_embedder)
    backend = LocalBackend(ChunkStore(settings.index_dir, settings.corpus), hash_embedder, Retrieval(mode="fts"))
    results = backend.search_blocking("tidal energy turbines glaciers", 3)
    ids = [r.id for r in results]
    assert len(ids) == len(set(ids)) and len(ids) >= 2


def test_bad_inputs_are_reported_not_fatal(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    (docs / "broken.jsonl").write_text('{"_id": "x", "text": "fine"}\n{not json\n')
    report = index_paths([docs], settings_for(tmp_path), embedder=hash_embedder)
    assert report.files_failed == 1 and "broken.jsonl:2: not JSON" in report.errors[0]
    with pytest.raises(IndexingError, match="no such file or folder"):
        index_paths([tmp_path / "missing"], settings_for(tmp_path), embedder=hash_embedder)
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    with pytest.raises(IndexingError, match="unsupported type"):
        index_paths([tmp_path / "image.png"], settings_for(tmp_path), embedder=hash_embedder)


def test_a_corpus_keeps_the_embedding_model_it_was_built_with(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    index_paths([docs], settings, embedder=hash_embedder)
    (docs / "new.md").write_text("new text")
    hash_embedder.model_name = "another-model"
    with pytest.raises(IndexingError, match="indexed with test-hash-embedder.*memento-search reindex"):
        index_paths([docs], settings, embedder=hash_embedder)


def test_chunks_respect_the_limit_overlap_and_cover_the_text():
    chunks = chunk_text(LONG, 500, 100)
    assert all(len(c) <= 500 for c in chunks) and len(chunks) > 10
    assert chunks[0].startswith("Paragraph 0") and chunks[-1].endswith("number 119.")
    assert chunks[1].split("\n")[0] in chunks[0]  # consecutive chunks overlap
    assert chunk_text("short", 500, 100) == ["short"] and chunk_text("   ", 500, 100) == []


def test_a_failing_index_read_becomes_a_backend_error_the_chain_can_warn_about(tmp_path, hash_embedder, monkeypatch):
    from memento_servers.search.errors import BackendUnavailable

    settings = settings_for(tmp_path)
    index_paths([make_folder(tmp_path)], settings, embedder=hash_embedder)
    store = ChunkStore(settings.index_dir, settings.corpus)

    def replaced_underneath(*_args):
        raise RuntimeError("LanceError(IO): index file not found")

    monkeypatch.setattr(store, "text_scores", replaced_underneath)
    with pytest.raises(BackendUnavailable, match="could not be read"):
        LocalBackend(store, hash_embedder, Retrieval(mode="fts")).search_blocking("reefs", 3)
    with pytest.raises(BackendUnavailable, match="not indexed"):
        LocalBackend(ChunkStore(tmp_path / "nothing", "default"), hash_embedder, Retrieval()).search_blocking("x", 3)


def test_in_memory_vector_search_matches_lancedb_and_follows_reindexing(tmp_path, hash_embedder):
    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    index_paths([docs], settings, embedder=hash_embedder)
    store = ChunkStore(settings.index_dir, settings.corpus)
    query = hash_embedder.embed(["glaciers carve fjords"])[0]

    def lancedb_ids(limit):
        search = store.chunks().search(query, query_type="vector", vector_column_name="vector").distance_type("dot")
        return [row["id"] for row in search.limit(limit).to_list()]

    mirrored = store.vector_scores(query, 5)
    assert list(mirrored) == lancedb_ids(5)
    best = next(iter(mirrored))
    assert {"title", "text", "url", "doc_id"} <= set(store.rows_by_id([best])[best])

    (docs / "notes.md").write_text("# Glacier notes\n\nGlaciers carve fjords, and this sentence is new.")
    index_paths([docs], settings, embedder=hash_embedder)
    store.chunks().checkout_latest()  # what the read-consistency interval does within seconds in a server
    top = next(iter(store.vector_scores(query, 1)))
    assert "this sentence is new" in store.rows_by_id([top])[top]["text"]


def test_a_corpus_over_the_mirror_cap_is_searched_on_disk_with_the_same_results(tmp_path, hash_embedder, monkeypatch):
    from memento_servers.search import store as store_module

    docs = make_folder(tmp_path)
    settings = settings_for(tmp_path)
    index_paths([docs], settings, embedder=hash_embedder)
    query = hash_embedder.embed(["glaciers carve fjords"])[0]
    mirrored = ChunkStore(settings.index_dir, settings.corpus)
    expected = [(item, round(sim, 5)) for item, sim in mirrored.vector_scores(query, 5).items()]
    monkeypatch.setattr(store_module, "MAX_MIRRORED_ROWS", 1)
    on_disk = ChunkStore(settings.index_dir, settings.corpus)
    assert [(item, round(sim, 5)) for item, sim in on_disk.vector_scores(query, 5).items()] == expected
    assert on_disk._mirror is None
    assert set(on_disk.rows_by_id([item for item, _ in expected])) == {item for item, _ in expected}  # read from disk

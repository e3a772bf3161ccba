"""A change of embedding model or backend: `index` refuses to mix vectors, `reindex` re-embeds the corpus in
one command (in process, and through the real CLI onto the default ONNX backend)."""

from __future__ import annotations

import json
import subprocess

import pytest

from memento_servers.search.config import SearchSettings
from memento_servers.search.errors import IndexingError
from memento_servers.search.indexer import index_paths, reindex
from memento_servers.search.local import LocalBackend, Retrieval
from memento_servers.search.store import ChunkStore
from tests.harness import script
from tests.search.conftest import HashEmbedder
from tests.search.test_backfill import write_corpus


class NarrowHashEmbedder(HashEmbedder):
    model_name = "narrow-hash-embedder"
    dim = 16


def test_a_model_change_is_refused_by_index_and_done_by_one_reindex(tmp_path, hash_embedder):
    settings = SearchSettings(index_dir=tmp_path / "index")
    corpus = write_corpus(tmp_path)
    index_paths([corpus], settings, embedder=hash_embedder)
    (tmp_path / "more.jsonl").write_text(json.dumps({"_id": "new", "text": "Tides rise twice a day."}) + "\n")
    narrow = NarrowHashEmbedder()
    with pytest.raises(IndexingError, match="indexed with test-hash-embedder.*memento-search reindex"):
        index_paths([tmp_path / "more.jsonl"], settings, embedder=narrow)

    report = reindex(settings, embedder=narrow)
    assert (report.total_chunks, report.chunks_embedded, report.chunks_pending, narrow.calls) == (3, 3, 0, 3)
    store = ChunkStore(settings.index_dir, settings.corpus)
    assert store.model() == "narrow-hash-embedder" and store.chunks().schema.field("vector").type.list_size == 16
    assert LocalBackend(store, narrow, Retrieval(mode="vector")).search_blocking("glaciers carve fjords", 1)[0].id == "fjord"
    assert LocalBackend(store, narrow, Retrieval(mode="fts")).search_blocking("basalt lava", 1)[0].id == "lava"
    again = index_paths([corpus, tmp_path / "more.jsonl"], settings, embedder=narrow)  # incremental again
    assert (again.files_unchanged, again.files_indexed, again.chunks_embedded, again.total_chunks) == (1, 1, 1, 4)


def test_reindex_through_the_cli_moves_a_corpus_onto_the_configured_backend(tmp_path, hash_embedder):
    index = tmp_path / "index"
    index_paths([write_corpus(tmp_path)], SearchSettings(index_dir=index), embedder=hash_embedder)
    done = subprocess.run([script("search"), "reindex", "--index", str(index), "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["chunks_embedded"] == 3
    store = ChunkStore(index, "default")
    assert store.model() == "all-MiniLM-L6-v2" and store.chunks().schema.field("vector").type.list_size == 384

    missing = subprocess.run([script("search"), "reindex", "--index", str(tmp_path / "none")], capture_output=True, text=True)
    assert missing.returncode == 2 and "is not indexed: run `memento-search index PATH`" in missing.stderr

"""BM25-first indexing: a corpus answers at once from BM25 and says so while its vectors are backfilled,
in process and over real MCP stdio (the CLI's --bm25-only, the server's own background backfill)."""

from __future__ import annotations

import json
import subprocess

import anyio
import pytest

from memento_servers.search.backfill import BackgroundBackfill
from memento_servers.search.config import SearchSettings
from memento_servers.search.indexer import index_paths
from memento_servers.search.local import LocalBackend, Retrieval
from memento_servers.search.store import ChunkStore
from tests.harness import connect, payload, script
from tests.search.conftest import DATA

DOCS = [
    {"_id": "reef", "title": "Coral reefs", "text": "Reefs bleach when the water turns warm."},
    {"_id": "fjord", "title": "Glaciers", "text": "Glaciers carve fjords over thousands of years."},
    {"_id": "lava", "title": "Volcanoes", "text": "Basalt lava flows cool into columns."},
]


def write_corpus(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in DOCS))
    return path


def test_a_query_during_backfill_answers_from_bm25_and_says_so_then_uses_vectors(tmp_path, hash_embedder):
    settings = SearchSettings(index_dir=tmp_path / "index")
    report = index_paths([write_corpus(tmp_path)], settings, embedder=hash_embedder, backfill=False)
    assert (report.total_chunks, report.chunks_pending, report.chunks_embedded, hash_embedder.calls) == (3, 3, 0, 0)
    store = ChunkStore(settings.index_dir, settings.corpus)
    hybrid = LocalBackend(store, hash_embedder, Retrieval())
    assert hybrid.search_blocking("glaciers carve fjords", 3)[0].id == "fjord"  # BM25 answers at once
    assert "vectors are still being computed (0/3 chunks)" in hybrid.notice()
    assert "vectors 0/3" in hybrid.describe()
    assert LocalBackend(store, hash_embedder, Retrieval(mode="vector")).search_blocking("glaciers fjords", 3) == []

    worker = BackgroundBackfill(store, hash_embedder)
    assert worker.start()
    worker.join(60)
    assert (worker.done, worker.total, worker.error) == (3, 3, None)
    assert store.pending() == 0 and hybrid.notice() is None and "vectors" not in hybrid.describe().split(";")[1]
    vector = LocalBackend(store, hash_embedder, Retrieval(mode="vector"))
    assert vector.search_blocking("glaciers carve fjords", 1)[0].id == "fjord"
    assert LocalBackend(store, hash_embedder, Retrieval(mode="fts")).search_blocking("basalt lava", 1)[0].id == "lava"

    again = index_paths([write_corpus(tmp_path)], settings, embedder=hash_embedder)  # nothing left to do
    assert (again.files_unchanged, again.chunks_embedded, again.chunks_pending) == (1, 0, 0)


@pytest.mark.anyio
async def test_over_stdio_search_says_vectors_are_pending_and_the_server_backfills_them(tmp_path, models_dir):
    index = tmp_path / "index"
    done = subprocess.run(
        [script("search"), "index", str(DATA / "corpus.jsonl"), "--index", str(index), "--quiet", "--bm25-only"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["chunks_pending"] == report["total_chunks"] >= 140 and report["chunks_embedded"] == 0
    args = ["--backend", "local", "--index", str(index)]
    with anyio.fail_after(300):
        async with connect("search", "stdio", args=args, env={"MEMENTO_SEARCH_BACKFILL_IN_SERVER": "false"}) as client:
            data = payload(await client.call_tool("search", {"query": "Scott Derrickson nationality"}))
            assert data["results"] and data["backend_used"] == ["local"]
            assert any("the other chunks were found by BM25 only" in w for w in data["warnings"])
            detail = payload(await client.call_tool("search_status", {}))["backends"][0]["detail"]
            assert f"vectors 0/{report['total_chunks']} (backfill waiting)" in detail

        async with connect("search", "stdio", args=args) as client:  # this one backfills in the background
            payload(await client.call_tool("search_status", {}))
            while "vectors " in (detail := payload(await client.call_tool("search_status", {}))["backends"][0]["detail"]):
                assert "failed" not in detail
                await anyio.sleep(0.5)
            await anyio.sleep(5)  # the server re-reads the table version every few seconds
            data = payload(await client.call_tool("search", {"query": "Scott Derrickson nationality"}))
            assert data["results"] and data["warnings"] == []

"""The local backend's ranking end to end: min-max fusion, the in-memory BM25 index and RM3 feedback over real LanceDB indexes,
in-process on a hand-made corpus and over a real `memento-search` stdio server on the HotpotQA slice."""

from __future__ import annotations

import json

import anyio
import pytest

from memento_servers.search.config import SearchSettings
from memento_servers.search.indexer import index_paths, reindex
from memento_servers.search.local import LocalBackend, Retrieval
from memento_servers.search.store import ChunkStore
from tests.harness import connect, payload

FILLER = ["Lava flows from the volcano.", "Glaciers carve fjords.", "Tides follow the moon.", "Deserts bloom after rain."]


def small_corpus(tmp_path, hash_embedder) -> ChunkStore:
    docs = [
        {"_id": "A", "text": "Zebrafish heart regeneration: cardiomyocyte proliferation after injury."},
        {"_id": "B", "text": "Cardiomyocyte proliferation drives heart regeneration in neonatal mice."},
        {"_id": "C", "text": "A sports injury heals in weeks."},
        *({"_id": f"F{i}", "text": text} for i, text in enumerate(FILLER)),
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    settings = SearchSettings(index_dir=tmp_path / "index")
    index_paths([path], settings, embedder=hash_embedder)
    return ChunkStore(settings.index_dir, settings.corpus)


def in_memory(backend: LocalBackend) -> LocalBackend:
    """`backend` once its in-memory BM25 index is built (the first call starts the build)."""
    assert backend.bm25.wait(60) is not None
    return backend


def scores(ranked) -> list[tuple[str, float]]:
    return [(row["doc_id"], score) for row, score in ranked]


def test_feedback_brings_in_a_document_that_shares_the_top_hit_s_terms_but_not_the_query_s(tmp_path, hash_embedder):
    store = small_corpus(tmp_path, hash_embedder)
    plain = dict(scores(LocalBackend(store, hash_embedder, Retrieval(depth=3, feedback_weight=0.0)).rank("zebrafish", 10)))
    assert max(plain, key=plain.get) == "A" and plain.get("B", 0.0) == 0.0  # only A says "zebrafish"
    backend = in_memory(LocalBackend(store, hash_embedder, Retrieval(depth=3, feedback_weight=1.0, feedback_docs=1)))
    ranked = scores(backend.rank("zebrafish", 10))
    fed = dict(ranked)
    assert ranked[0][0] == "A" and fed["B"] > 0  # B shares A's terms: the expanded query found it
    assert all(fed["B"] > fed.get(f"F{i}", 0.0) for i in range(3))  # above documents sharing no term with A
    assert next(r for r in backend.search_blocking("zebrafish", 10) if r.id == "B").snippet.startswith("Cardiomyocyte")


def test_the_in_memory_bm25_index_is_built_in_the_background_and_follows_the_text(tmp_path, hash_embedder):
    store = small_corpus(tmp_path, hash_embedder)
    backend = LocalBackend(store, hash_embedder, Retrieval(mode="fts"))
    assert backend.bm25.ready() is None  # building: LanceDB's index answers meanwhile
    on_disk = scores(backend.rank("cardiomyocyte proliferation", 3))
    index = in_memory(backend).bm25.ready()
    in_ram = scores(backend.rank("cardiomyocyte proliferation", 3))
    assert [doc for doc, _ in in_ram] == [doc for doc, _ in on_disk] and {doc for doc, _ in in_ram} == {"A", "B"}  # other scale
    assert "BM25 in memory" in backend.describe()

    settings = SearchSettings(index_dir=tmp_path / "index")
    reindex(settings, embedder=hash_embedder)  # new table versions, same text: the index is kept
    store.chunks().checkout_latest()  # what the read-consistency interval does within seconds in a server
    assert in_memory(backend).bm25.ready() is index

    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"_id": "N", "text": "Narwhals use their tusks."}) + "\n")
    index_paths([extra], settings, embedder=hash_embedder)
    store.chunks().checkout_latest()
    assert in_memory(backend).bm25.ready() is not index
    assert scores(backend.rank("narwhal tusks", 1))[0][0] == "N"


def test_a_corpus_over_the_in_memory_limit_is_ranked_on_disk_without_feedback(tmp_path, hash_embedder):
    store = small_corpus(tmp_path, hash_embedder)
    capped = LocalBackend(store, hash_embedder, Retrieval(feedback_weight=1.0, memory_bm25_max_chunks=3))
    capped.bm25.wait(60)
    assert capped.bm25.ready() is None and "BM25 on disk" in capped.describe()
    assert [row["doc_id"] for row, _ in capped.rank("zebrafish", 1)] == ["A"]  # no feedback, still an answer


@pytest.mark.anyio
async def test_hybrid_with_minmax_fusion_and_feedback_over_a_real_stdio_server(hotpot_index, hotpot_questions):
    args = ["--backend", "local", "--index", str(hotpot_index), "--fusion", "minmax", "--feedback-weight", "0.5"]
    args += ["--memory-bm25-max-chunks", "1000"]  # the slice has 140 chunks: held in memory, so feedback is on
    with anyio.fail_after(240):
        async with connect("search", "stdio", args=args) as client:
            info = payload(await client.call_tool("server_info", {}))
            chosen = info["settings"]
            assert (chosen["fusion"], chosen["feedback_weight"], chosen["memory_bm25_max_chunks"]) == ("minmax", 0.5, 1000)
            most = chosen["fts_weight"] + 1.0 + 0.5  # three min-max lists: BM25, vectors, feedback
            found = total = 0
            for item in hotpot_questions:
                hits = payload(await client.call_tool("search", {"query": item["question"], "max_results": 10}))["results"]
                assert all(0 < hit["score"] <= most for hit in hits)
                found += len(set(item["gold_ids"]) & {hit["id"] for hit in hits})
                total += len(item["gold_ids"])
    assert found / total >= 0.9

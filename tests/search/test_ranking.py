"""The local backend's ranking end to end: min-max fusion and RM3 feedback over real LanceDB indexes,
in-process on a hand-made corpus and over a real `memento-search` stdio server on the HotpotQA slice."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from memento_servers.search.config import SearchSettings
from memento_servers.search.indexer import index_paths
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


def scores(ranked) -> list[tuple[str, float]]:
    return [(row["doc_id"], score) for row, score in ranked]


def test_feedback_brings_in_a_document_that_shares_the_top_hit_s_terms_but_not_the_query_s(tmp_path, hash_embedder):
    store = small_corpus(tmp_path, hash_embedder)
    plain = dict(scores(LocalBackend(store, hash_embedder, Retrieval(depth=3, feedback_weight=0.0)).rank("zebrafish", 10)))
    assert max(plain, key=plain.get) == "A" and plain.get("B", 0.0) == 0.0  # only A says "zebrafish"
    backend = LocalBackend(store, hash_embedder, Retrieval(depth=3, feedback_weight=1.0, feedback_docs=1))
    ranked = scores(backend.rank("zebrafish", 10))
    fed = dict(ranked)
    assert ranked[0][0] == "A" and fed["B"] > 0  # B shares A's terms: the expanded query found it
    assert all(fed["B"] > fed.get(f"F{i}", 0.0) for i in range(3))  # above documents sharing no term with A
    assert next(r for r in backend.search_blocking("zebrafish", 10) if r.id == "B").snippet.startswith("Cardiomyocyte")


def test_the_in_memory_index_follows_the_corpus_and_stops_past_its_limit(tmp_path, hash_embedder):
    store = small_corpus(tmp_path, hash_embedder)
    backend = LocalBackend(store, hash_embedder, Retrieval(feedback_weight=1.0))
    first = backend._lexical_index()
    assert first is not None and backend._lexical_index() is first  # reused while the table is unchanged
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"_id": "N", "text": "Narwhals use their tusks."}) + "\n")
    index_paths([extra], SearchSettings(index_dir=tmp_path / "index"), embedder=hash_embedder)
    time.sleep(5.2)  # the store re-reads the table version at most every 5 s (its read_consistency_interval)
    assert backend._lexical_index().terms_of("N#0") == ["narwhal", "use", "tusk"]
    capped = LocalBackend(store, hash_embedder, Retrieval(feedback_weight=1.0, feedback_max_chunks=3))
    assert capped._lexical_index() is None
    assert [row["doc_id"] for row, _ in capped.rank("zebrafish", 1)] == ["A"]  # no feedback, still an answer


@pytest.mark.anyio
async def test_hybrid_with_minmax_fusion_and_feedback_over_a_real_stdio_server(hotpot_index, hotpot_questions):
    args = ["--backend", "local", "--index", str(hotpot_index), "--fusion", "minmax", "--feedback-weight", "0.5"]
    args += ["--feedback-max-chunks", "1000"]  # the slice has 140 chunks: feedback stays on
    with anyio.fail_after(240):
        async with connect("search", "stdio", args=args) as client:
            info = payload(await client.call_tool("server_info", {}))
            chosen = info["settings"]
            assert (chosen["fusion"], chosen["feedback_weight"], chosen["feedback_max_chunks"]) == ("minmax", 0.5, 1000)
            most = chosen["fts_weight"] + 1.0 + 0.5  # three min-max lists: BM25, vectors, feedback
            found = total = 0
            for item in hotpot_questions:
                hits = payload(await client.call_tool("search", {"query": item["question"], "max_results": 10}))["results"]
                assert all(0 < hit["score"] <= most for hit in hits)
                found += len(set(item["gold_ids"]) & {hit["id"] for hit in hits})
                total += len(item["gold_ids"])
    assert found / total >= 0.9

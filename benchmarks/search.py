"""Retrieval quality and speed of memento-search's local backend.

    python -m benchmarks.search [--quick] [--data ../shared/data] [--work DIR]

- HotpotQA (hotpotqa_500: 4,858 paragraphs, 250 dev questions): recall@10 of the gold paragraphs for
  BM25-only (LanceDB FTS), vector-only (MiniLM) and hybrid (RRF), plus the bm25s baseline in the same run
  when the `bm25s` and `PyStemmer` packages are installed.
- SciFact (BEIR layout, train qrels): nDCG@10 for the same three modes.
- query_p50_ms: `search` calls over MCP stdio against the HotpotQA index, after a warm-up.
- indexing throughput (docs/s): a fresh index of a corpus sample, embeddings included.

Indexes live in --work (default: the memento cache dir) and are reused across runs (indexing is
incremental). Progress goes to stderr; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
MODES = ("fts", "vector", "hybrid")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def settings(work: Path, corpus: str, **extra):
    from memento_servers.search.config import SearchSettings

    return SearchSettings(backends=["local"], index_dir=work, corpus=corpus, **extra)


def build_index(corpus_file: Path, work: Path, name: str, embedder) -> dict:
    from memento_servers.search.indexer import index_paths

    report = index_paths([corpus_file], settings(work, name), embedder=embedder, progress=True)
    log(f"{name}: {report.total_chunks} chunks ({report.chunks_embedded} embedded now) in {report.seconds:.1f} s")
    return report.model_dump()


def ranked_ids(work: Path, name: str, embedder, queries: list[str], k: int = 10) -> dict[str, list[list[str]]]:
    from memento_servers.search.local import LocalBackend, Retrieval
    from memento_servers.search.store import ChunkStore

    base = settings(work, name)
    store = ChunkStore(work, name)
    out = {}
    for mode in MODES:
        retrieval = Retrieval(mode=mode, rrf_k=base.rrf_k, fts_weight=base.fts_weight, depth=base.fusion_depth)
        backend = LocalBackend(store, embedder, retrieval)
        out[mode] = [[r.id for r in backend.search_blocking(q, k)] for q in queries]
    return out


def recall_at(ranked: list[list[str]], gold: list[list[str]], k: int = 10) -> float:
    return round(statistics.mean(len(set(r[:k]) & set(g)) / len(g) for r, g in zip(ranked, gold, strict=True)), 4)


def ndcg_at(ranked: list[list[str]], relevant: list[dict[str, int]], k: int = 10) -> float:
    scores = []
    for ranking, rels in zip(ranked, relevant, strict=True):
        dcg = sum(rels.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
        ideal = sum(rel / math.log2(i + 2) for i, rel in enumerate(sorted(rels.values(), reverse=True)[:k]))
        scores.append(dcg / ideal if ideal else 0.0)
    return round(statistics.mean(scores), 4)


def bm25s_recall(corpus: list[dict], questions: list[dict]) -> float | None:
    """The issue's baseline: bm25s with English stop words and the Snowball stemmer."""
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("english")
    texts = [f"{doc.get('title', '')}\n{doc['text']}" for doc in corpus]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([q["question"] for q in questions], stopwords="en", stemmer=stemmer, show_progress=False)
    rows, _ = retriever.retrieve(tokens, k=10, show_progress=False)
    return recall_at([[corpus[i]["_id"] for i in row] for row in rows], [q["gold_ids"] for q in questions])


def hotpotqa(data: Path, work: Path, embedder, quick: bool) -> dict:
    folder = data / "corpus" / "hotpotqa_500"
    questions = read_jsonl(folder / "questions_dev.jsonl")[: 100 if quick else None]
    build_index(folder / "corpus.jsonl", work, "hotpotqa", embedder)
    ranked = ranked_ids(work, "hotpotqa", embedder, [q["question"] for q in questions])
    gold = [q["gold_ids"] for q in questions]
    figures = {f"hotpotqa_recall@10_{mode}": recall_at(ranked[mode], gold) for mode in MODES}
    figures["hotpotqa_recall@10_bm25s_baseline"] = bm25s_recall(read_jsonl(folder / "corpus.jsonl"), questions)
    figures["hotpotqa_questions"] = len(questions)
    return figures


def scifact(data: Path, work: Path, embedder, quick: bool) -> dict:
    folder = data / "corpus" / "scifact"
    relevant: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        relevant.setdefault(query_id, {})[doc_id] = int(score)
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if q["_id"] in relevant][: 100 if quick else None]
    build_index(folder / "corpus.jsonl", work, "scifact", embedder)
    ranked = ranked_ids(work, "scifact", embedder, [q["text"] for q in queries])
    rels = [relevant[q["_id"]] for q in queries]
    figures = {f"scifact_ndcg@10_{mode}": ndcg_at(ranked[mode], rels) for mode in MODES}
    figures["scifact_queries"] = len(queries)
    return figures


def indexing_throughput(data: Path, embedder, quick: bool) -> float:
    """docs/s of a fresh index (chunking, embedding, writing, BM25 index) of a HotpotQA sample."""
    from memento_servers.search.indexer import index_paths

    sample = read_jsonl(data / "corpus" / "hotpotqa_500" / "corpus.jsonl")[: 200 if quick else 1000]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.jsonl"
        path.write_text("".join(json.dumps(doc) + "\n" for doc in sample))
        started = time.perf_counter()
        index_paths([path], settings(Path(tmp) / "index", "sample"), embedder=embedder)
        return round(len(sample) / (time.perf_counter() - started), 1)


async def mcp_latency(work: Path, data: Path, runs: int) -> dict:
    from tests.harness import connect, payload

    questions = [q["question"] for q in read_jsonl(data / "corpus" / "hotpotqa_500" / "questions_dev.jsonl")]
    args = ["--backend", "local", "--index", str(work), "--corpus", "hotpotqa"]
    async with connect("search", "stdio", args=args) as client:
        for question in questions[:3]:  # warm-up: loads the index and the embedding model
            payload(await client.call_tool("search", {"query": question, "max_results": 10}))
        timings = []
        for question in (questions * 2)[3 : 3 + runs]:
            started = time.perf_counter()
            payload(await client.call_tool("search", {"query": question, "max_results": 10}))
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "query_p50_ms": round(statistics.median(timings), 1),
        "query_p90_ms": round(timings[int(0.9 * (len(timings) - 1))], 1),
        "query_runs": len(timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 questions/queries per set, fewer timing runs.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="The evaluation data folder.")
    parser.add_argument("--work", type=Path, default=None, help="Where the benchmark indexes live (reused).")
    args = parser.parse_args()
    from memento_core import paths
    from memento_core.embeddings import Embedder
    from memento_servers.search.config import SearchSettings

    work = args.work or paths.cache_dir() / "benchmarks" / "search"
    figures: dict = {"benchmark": "search", "quick": args.quick}
    if not (args.data / "corpus" / "hotpotqa_500").exists():
        figures["skipped"] = f"no evaluation data at {args.data} (pass --data)"
        print(json.dumps(figures))
        return
    defaults = SearchSettings()
    figures["fusion"] = {"rrf_k": defaults.rrf_k, "fts_weight": defaults.fts_weight, "depth": defaults.fusion_depth}
    embedder = Embedder(defaults.embedding_model, threads=defaults.embed_threads)
    figures.update(hotpotqa(args.data, work, embedder, args.quick))
    log(json.dumps(figures))
    if (args.data / "corpus" / "scifact").exists():
        figures.update(scifact(args.data, work, embedder, args.quick))
    else:
        figures["scifact"] = "skipped: no corpus/scifact in the data folder"
    log(json.dumps(figures))
    figures.update(anyio.run(mcp_latency, work, args.data, 30 if args.quick else 200))
    figures["indexing_docs_per_s"] = indexing_throughput(args.data, embedder, args.quick)
    figures["targets"] = {"hotpotqa_hybrid_recall@10": 0.93, "scifact_hybrid_ndcg@10": 0.72, "query_p50_ms": 30}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

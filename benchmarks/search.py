"""Retrieval quality and speed of memento-search's local backend, measured on questions it was not tuned on.

    python -m benchmarks.search [--quick] [--data ../shared/data] [--work DIR] [--seed 16] [--sweep]

Protocol: each set's questions are shuffled with a fixed seed (--seed) and cut in two halves. The
ranking constants (fusion kind, BM25 weight, depth) are chosen on the *tune* half only (`--sweep`
prints that search); the figures that count are those of the *untouched* half. Both halves are
reported, and the untouched figure is repeated over five other seeds to show how much it moves.

- HotpotQA (hotpotqa_500: 4,858 paragraphs, 250 dev questions): recall@10 of the gold paragraphs.
- SciFact (BEIR layout, train qrels, 809 queries; skipped when absent): nDCG@10.
- Systems, all in the same run: BM25 only (the in-memory index the default uses, and LanceDB's FTS index),
  vectors only (MiniLM), the hybrid as configured by default, the previous default (RRF k=60, depth 20,
  LanceDB's FTS) and plain `bm25s` (English stop words + Snowball stemmer, title + text, its default
  k1 1.5) when the `bm25s` and `PyStemmer` packages are installed.
- query_p50_ms: `search` calls over MCP stdio against the HotpotQA index, after a warm-up, with a second
  server running the previous ranking (RRF, LanceDB's FTS, no feedback) queried alternately:
  query_previous_ranking_p50_ms.
- indexing throughput (docs/s): a fresh index of a corpus sample, embeddings included.

Indexes live in --work (default: the memento cache dir) and are reused across runs (indexing is
incremental); query embeddings are computed once per run and shared by every system. Progress goes to
stderr; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
SEED = 16
OTHER_SEEDS = (1, 2, 3, 4, 5)
MODES = ("fts", "vector", "hybrid")
SWEEP = {"fusion": ("minmax", "rrf"), "fts_weight": (0.8, 1.0, 1.25), "depth": (20, 50), "feedback_weight": (0.0, 0.3, 0.5, 1.0)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def settings(work: Path, corpus: str, **extra):
    from memento_servers.search.config import SearchSettings

    return SearchSettings(backends=["local"], index_dir=work, corpus=corpus, **extra)


def halves(count: int, seed: int) -> tuple[list[int], list[int]]:
    """Question positions of the tune half and the untouched half, shuffled with `seed`."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return sorted(order[: count // 2]), sorted(order[count // 2 :])


def mean_over(per_query: list[float], positions: list[int]) -> float:
    return round(statistics.mean(per_query[i] for i in positions), 4)


class CachedEmbedder:
    """The embedder with each distinct text embedded once per run (every system sees the same vectors)."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.cache: dict[str, object] = {}

    def embed(self, texts: list[str]):
        import numpy as np

        missing = [text for text in dict.fromkeys(texts) if text not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.embed(missing)))
        return np.stack([self.cache[text] for text in texts])

    def embed_query(self, text: str):
        return self.embed([text])[0]

    def __getattr__(self, name: str):  # dim, model_name, ...: the wrapped embedder's
        return getattr(self.embedder, name)


def build_index(corpus_file: Path, work: Path, name: str, embedder) -> dict:
    from memento_servers.search.indexer import index_paths

    report = index_paths([corpus_file], settings(work, name), embedder=embedder, progress=True)
    log(f"{name}: {report.total_chunks} chunks ({report.chunks_embedded} embedded now) in {report.seconds:.1f} s")
    return report.model_dump()


def default_retrieval():
    from memento_servers.search.local import Retrieval

    base = settings(Path("."), "x")
    return Retrieval(
        fusion=base.fusion,
        rrf_k=base.rrf_k,
        fts_weight=base.fts_weight,
        depth=base.fusion_depth,
        feedback_weight=base.feedback_weight,
    )


def ranker(work: Path, name: str, embedder) -> Callable:
    """`rank(retrieval, queries)`: the top-10 document ids of each query under those ranking settings."""
    from memento_servers.search.local import LocalBackend
    from memento_servers.search.store import ChunkStore

    store = ChunkStore(work, name)

    def rank(retrieval, queries: list[str], k: int = 10) -> list[list[str]]:
        backend = LocalBackend(store, embedder, retrieval)
        backend.bm25.wait()  # build the in-memory BM25 index first (queries meanwhile would use LanceDB's)
        return [[r.id for r in backend.search_blocking(q, k)] for q in queries]

    return rank


def recall_at(ranking: list[str], gold: list[str], k: int = 10) -> float:
    return len(set(ranking[:k]) & set(gold)) / len(gold)


def ndcg_at(ranking: list[str], rels: dict[str, int], k: int = 10) -> float:
    dcg = sum(rels.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    ideal = sum(rel / math.log2(i + 2) for i, rel in enumerate(sorted(rels.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def bm25s_rankings(corpus: list[dict], queries: list[str], k: int = 10) -> list[list[str]] | None:
    """The issue's baseline: bm25s with English stop words and the Snowball stemmer over title + text."""
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("english")
    texts = [f"{doc.get('title', '')}\n{doc['text']}" for doc in corpus]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(queries, stopwords="en", stemmer=stemmer, show_progress=False)
    rows, _ = retriever.retrieve(tokens, k=k, show_progress=False)
    return [[corpus[i]["_id"] for i in row] for row in rows]


def evaluate(
    name: str, rank: Callable, queries: list[str], metric: Callable, truth: list, corpus: list[dict], seed: int, sweep: bool
) -> dict:
    """Per-system figures on both halves (and the untouched half over other seeds) for one set."""
    from memento_servers.search.local import Retrieval

    tune, untouched = halves(len(queries), seed)
    chosen = default_retrieval()
    systems = {
        "fts": Retrieval(mode="fts"),
        "fts_lancedb": Retrieval(mode="fts", memory_bm25_max_chunks=0),
        "vector": Retrieval(mode="vector"),
        "hybrid": chosen,
        "hybrid_rrf_previous": Retrieval(
            fusion="rrf", rrf_k=60, fts_weight=1.0, depth=20, feedback_weight=0.0, memory_bm25_max_chunks=0
        ),
        "hybrid_without_feedback": replace(chosen, feedback_weight=0.0),
        "hybrid_with_feedback": replace(chosen, feedback_weight=chosen.feedback_weight or 0.5),
    }
    per_query = {system: [metric(r, t) for r, t in zip(rank(retrieval, queries), truth)] for system, retrieval in systems.items()}
    baseline = bm25s_rankings(corpus, queries)
    if baseline is not None:
        per_query["bm25s"] = [metric(r, t) for r, t in zip(baseline, truth)]
    figures: dict = {"questions": len(queries), "tune_questions": len(tune), "untouched_questions": len(untouched)}
    figures["tune"] = {system: mean_over(scores, tune) for system, scores in per_query.items()}
    figures["untouched"] = {system: mean_over(scores, untouched) for system, scores in per_query.items()}
    other_halves = [halves(len(queries), other)[1] for other in OTHER_SEEDS]
    figures["untouched_other_seeds"] = {
        system: [mean_over(scores, half) for half in other_halves] for system, scores in per_query.items()
    }
    single_systems = ("fts", "fts_lancedb", "vector", "bm25s")
    singles = {system: figures["untouched"][system] for system in single_systems if system in per_query}
    figures["best_single"] = max(singles.items(), key=lambda pair: pair[1])
    if sweep:
        figures["sweep_on_tune_half"] = sweep_tune(rank, [queries[i] for i in tune], metric, [truth[i] for i in tune])
    log(f"{name}: {json.dumps(figures)}")
    return figures


def sweep_tune(rank: Callable, queries: list[str], metric: Callable, truth: list) -> list[dict]:
    """Every setting of SWEEP, scored on the tune half only, best first."""
    from memento_servers.search.local import Retrieval

    rows = []
    for values in itertools.product(*SWEEP.values()):
        setting = dict(zip(SWEEP, values))
        if setting["fusion"] == "rrf" and setting["feedback_weight"]:
            continue  # feedback is a third minmax ranking
        score = statistics.mean(metric(r, t) for r, t in zip(rank(Retrieval(**setting), queries), truth))
        rows.append({**setting, "tune": round(score, 4)})
    return sorted(rows, key=lambda row: -row["tune"])


def hotpotqa(data: Path, work: Path, embedder, quick: bool, seed: int, sweep: bool) -> dict:
    folder = data / "corpus" / "hotpotqa_500"
    questions = read_jsonl(folder / "questions_dev.jsonl")[: 100 if quick else None]
    build_index(folder / "corpus.jsonl", work, "hotpotqa", embedder)
    rank = ranker(work, "hotpotqa", embedder)
    queries = [q["question"] for q in questions]
    gold = [q["gold_ids"] for q in questions]
    return evaluate("hotpotqa", rank, queries, recall_at, gold, read_jsonl(folder / "corpus.jsonl"), seed, sweep)


def scifact_queries(folder: Path, quick: bool) -> tuple[list[str], list[dict[str, int]]]:
    """The SciFact queries that have train qrels (200 with `quick`), and each one's relevant documents."""
    relevant: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        relevant.setdefault(query_id, {})[doc_id] = int(score)
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if q["_id"] in relevant][: 200 if quick else None]
    return [q["text"] for q in queries], [relevant[q["_id"]] for q in queries]


def scifact(data: Path, work: Path, embedder, quick: bool, seed: int, sweep: bool) -> dict:
    folder = data / "corpus" / "scifact"
    queries, rels = scifact_queries(folder, quick)
    build_index(folder / "corpus.jsonl", work, "scifact", embedder)
    rank = ranker(work, "scifact", embedder)
    corpus = read_jsonl(folder / "corpus.jsonl")
    return evaluate("scifact", rank, queries, ndcg_at, rels, corpus, seed, sweep)


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


LATENCY_BLOCK = 25
# the ranking before issue 16: RRF over LanceDB's FTS, no feedback
PREVIOUS_ARGS = ["--fusion", "rrf", "--fts-weight", "1.0", "--feedback-weight", "0", "--memory-bm25-max-chunks", "0"]


async def mcp_latency(work: Path, data: Path, runs: int) -> dict:
    """`search` round trips over stdio, the current ranking and the previous one served side by side and
    queried in alternate blocks of LATENCY_BLOCK questions (so both see the same machine load; switching
    at every question measured both ~1.8x slower, each server finding the caches filled by the other)."""
    from tests.harness import connect, payload

    questions = [q["question"] for q in read_jsonl(data / "corpus" / "hotpotqa_500" / "questions_dev.jsonl")]
    args = ["--backend", "local", "--index", str(work), "--corpus", "hotpotqa"]
    timings: dict[str, list[float]] = {"current": [], "previous": []}
    serve_previous = connect("search", "stdio", args=args + PREVIOUS_ARGS)
    async with connect("search", "stdio", args=args) as current, serve_previous as previous:
        clients = {"current": current, "previous": previous}
        for client in clients.values():
            for question in questions[:3]:  # warm-up: loads the index and the embedding model
                payload(await client.call_tool("search", {"query": question, "max_results": 10}))
        with anyio.fail_after(300):  # and the current server's in-memory BM25 index, built in the background
            while "BM25 in memory" not in payload(await current.call_tool("search_status", {}))["backends"][0]["detail"]:
                await anyio.sleep(0.5)
        asked = (questions * 2)[3 : 3 + runs]
        for block in range(0, runs, LATENCY_BLOCK):
            for name, client in clients.items():
                for question in asked[block : block + LATENCY_BLOCK]:
                    started = time.perf_counter()
                    payload(await client.call_tool("search", {"query": question, "max_results": 10}))
                    timings[name].append((time.perf_counter() - started) * 1000)
    out = {}
    for name, values in timings.items():
        values.sort()
        prefix = "query" if name == "current" else "query_previous_ranking"
        out[f"{prefix}_p50_ms"] = round(statistics.median(values), 1)
        out[f"{prefix}_p90_ms"] = round(values[int(0.9 * (len(values) - 1))], 1)
    out["query_runs"] = runs
    return out


def targets(figures: dict) -> dict:
    """The issue's targets on the untouched half: an absolute floor and best single retriever + 0.01."""
    out = {}
    for name, floor in (("hotpotqa", 0.94), ("scifact", 0.73)):
        if isinstance(figures.get(name), dict):
            got, (best, single) = figures[name]["untouched"]["hybrid"], figures[name]["best_single"]
            met = got >= floor and got >= single + 0.01
            out[name] = {"hybrid": got, "floor": floor, "best_single": f"{best} {single}", "met": met}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 HotpotQA / 200 SciFact questions, fewer timing runs.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="The evaluation data folder.")
    parser.add_argument("--work", type=Path, default=None, help="Where the benchmark indexes live (reused).")
    parser.add_argument("--seed", type=int, default=SEED, help="Seed of the tune/untouched split.")
    parser.add_argument("--sweep", action="store_true", help="Also score every fusion setting on the tune half.")
    args = parser.parse_args()
    from memento_core import paths
    from memento_core.embeddings import Embedder
    from memento_servers.search.config import SearchSettings

    work = args.work or paths.cache_dir() / "benchmarks" / "search"
    figures: dict = {"benchmark": "search", "quick": args.quick, "seed": args.seed}
    if not (args.data / "corpus" / "hotpotqa_500").exists():
        figures["skipped"] = f"no evaluation data at {args.data} (pass --data)"
        print(json.dumps(figures))
        return
    defaults = SearchSettings()
    figures["ranking"] = {
        "fusion": defaults.fusion,
        "fts_weight": defaults.fts_weight,
        "depth": defaults.fusion_depth,
        "rrf_k": defaults.rrf_k,
        "feedback_weight": defaults.feedback_weight,
    }
    embedder = Embedder(defaults.embedding_model, threads=defaults.embed_threads)
    cached = CachedEmbedder(embedder)
    figures["hotpotqa"] = hotpotqa(args.data, work, cached, args.quick, args.seed, args.sweep)
    if (args.data / "corpus" / "scifact").exists():
        figures["scifact"] = scifact(args.data, work, cached, args.quick, args.seed, args.sweep)
    else:
        figures["scifact"] = "skipped: no corpus/scifact in the data folder"
    figures.update(anyio.run(mcp_latency, work, args.data, 30 if args.quick else 200))
    figures["indexing_docs_per_s"] = indexing_throughput(args.data, embedder, args.quick)
    figures["targets"] = targets(figures)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

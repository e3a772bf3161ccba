"""Embedding backends against the machine's limit, in one run on the same HotpotQA passages.

    python -m benchmarks.embeddings [--quick] [--data ../shared/data] [--backends onnx,onnx-int8,torch,static]

- baseline: plain sentence-transformers, all cores, batches of 32 (the machine's limit for this model);
- each backend of `memento_core.embeddings`: bulk passages/s (`Embedder.embed`, every core) and one
  query's p50 (`embed_query`, one thread, cache off), and its vectors' cosine to torch's;
- `index_passages_per_s`: the project's `index_paths` end to end on the same passages (BM25 first,
  then the vector backfill), with the default backend; its ratio to the best raw bulk rate of any
  transformer backend, and of those that pass the quality guard (only those may be the default);
- quality guard: dense recall@10 on HotpotQA questions and nDCG@10 on SciFact queries (when
  corpus/scifact is in the data folder) over each backend's vectors, and for query backends mixed
  with torch-built passage vectors; a backend passes when within 0.005 of torch's;
- search p50 over MCP stdio (`benchmarks.search.mcp_latency`) and case-bank `retrieve` p50 with real
  query embeddings at 100k cases (10k with --quick; `benchmarks.memory`'s machinery).
Passages: 1,500 HotpotQA paragraphs (title + text; --quick 400). Quality runs over the questions'
gold paragraphs plus the first 2,000 others (--quick 800), so every backend ranks the same pool.
The machine may be shared: compare figures within one run. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

from benchmarks.search import ndcg_at, read_jsonl, recall_at
from memento_core.embeddings import BACKENDS, DEFAULT_BACKEND, Embedder, all_cores, resolve_model
from memento_core.vectors import top_k

ROOT = Path(__file__).resolve().parents[1]
GUARD = 0.005


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def passage(doc: dict) -> str:
    return f"{doc.get('title', '')}\n{doc['text']}"


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - started, out


def plain_sentence_transformers(texts: list[str]) -> tuple[float, np.ndarray]:
    """passages/s of sentence-transformers with every core and batches of 32, and its vectors."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    torch.set_num_threads(all_cores())
    model.encode(texts[:32], batch_size=32)
    seconds, vectors = timed(lambda: model.encode(texts, batch_size=32, normalize_embeddings=True))
    torch.set_num_threads(1)
    return len(texts) / seconds, np.asarray(vectors, dtype=np.float32)


def query_p50(embedder: Embedder, backend: str, queries: list[str]) -> float:
    encoder = embedder.encoder(backend)
    encoder.encode(queries[:2], 1)
    times = [timed(encoder.encode, [q], 1)[0] * 1000 for q in queries]
    return round(statistics.median(times), 2)


def hotpot_pool(data: Path, size: int) -> tuple[list[dict], list[dict]]:
    folder = data / "corpus" / "hotpotqa_500"
    corpus = read_jsonl(folder / "corpus.jsonl")
    questions = read_jsonl(folder / "questions_dev.jsonl")
    gold = {g for q in questions for g in q["gold_ids"]}
    pool = [d for d in corpus if d["_id"] in gold] + [d for d in corpus if d["_id"] not in gold][:size]
    return pool, questions


def scifact_pool(data: Path, size: int, limit: int | None):
    folder = data / "corpus" / "scifact"
    if not folder.exists():
        return None
    relevant: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        query_id, doc_id, score = line.split("\t")
        relevant.setdefault(query_id, {})[doc_id] = int(score)
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if q["_id"] in relevant][:limit]
    wanted = {d for q in queries for d in relevant[q["_id"]]}
    corpus = read_jsonl(folder / "corpus.jsonl")
    pool = [d for d in corpus if d["_id"] in wanted] + [d for d in corpus if d["_id"] not in wanted][:size]
    return pool, queries, [relevant[q["_id"]] for q in queries]


def ranked(doc_vectors: np.ndarray, query_vectors: np.ndarray, ids: list[str]) -> list[list[str]]:
    return [[ids[i] for i in top_k(doc_vectors @ q, 10)] for q in query_vectors]


def mean_metric(metric, rankings: list[list[str]], truth: list) -> float:
    return round(statistics.mean(metric(ranking, gold) for ranking, gold in zip(rankings, truth, strict=True)), 4)


def quality(embedders: dict[str, Embedder], data: Path, quick: bool) -> dict:
    """Dense retrieval quality of each backend alone and of each query backend over torch's passage vectors."""
    figures: dict = {}
    pool, questions = hotpot_pool(data, 800 if quick else 2000)
    questions = questions[: 100 if quick else None]
    sets = [("hotpotqa_recall@10", pool, [q["question"] for q in questions], [q["gold_ids"] for q in questions], recall_at)]
    sci = scifact_pool(data, 800 if quick else 2000, 100 if quick else None)
    if sci is None:
        figures["scifact"] = "skipped: no corpus/scifact in the data folder"
    else:
        sets.append(("scifact_ndcg@10", sci[0], [q["text"] for q in sci[1]], sci[2], ndcg_at))
    for label, docs, queries, truth, metric in sets:
        ids = [d["_id"] for d in docs]
        log(f"quality: {label} over {len(docs)} passages, {len(queries)} queries")
        doc_vectors = {name: e.embed([passage(d) for d in docs]) for name, e in embedders.items()}
        query_vectors = {name: np.stack([e.embed_query(q) for q in queries]) for name, e in embedders.items()}
        for name in embedders:
            figures[f"{label}_{name}"] = mean_metric(metric, ranked(doc_vectors[name], query_vectors[name], ids), truth)
            if name not in ("torch", "static"):  # queries on this backend, passages from torch
                figures[f"{label}_torch_passages_{name}_queries"] = mean_metric(
                    metric, ranked(doc_vectors["torch"], query_vectors[name], ids), truth
                )
    return figures


def guard(figures: dict, labels: list[str], names: list[str]) -> dict[str, bool]:
    """Whether each backend stays within GUARD of torch on every quality figure (alone and mixed)."""
    verdicts = {}
    for name in names:
        pairs = [(f"{label}_{name}", f"{label}_torch") for label in labels]
        pairs += [(f"{label}_torch_passages_{name}_queries", f"{label}_torch") for label in labels]
        verdicts[name] = min(figures[key] - figures[base] for key, base in pairs if key in figures) >= -GUARD
    return verdicts


def index_rate(docs: list[dict], backend: str) -> tuple[float, dict]:
    """passages/s of `index_paths` (BM25 first, then the vector backfill) on a fresh index."""
    from memento_servers.search.config import SearchSettings
    from memento_servers.search.indexer import index_paths

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passages.jsonl"
        path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
        settings = SearchSettings(backends=["local"], index_dir=Path(tmp) / "index", corpus="bench", embedding_backend=backend)
        settings.embedder().embed(["warm up"])  # model load and export are not indexing
        seconds, report = timed(index_paths, [path], settings)
    return len(docs) / seconds, report.model_dump(include={"bm25_seconds", "seconds", "chunks_embedded", "total_chunks"})


def search_latency(data: Path, work: Path, quick: bool) -> dict:
    """`search` over stdio against a HotpotQA index built with the default backend."""
    from benchmarks.search import build_index, mcp_latency
    from memento_servers.search.config import SearchSettings

    build_index(data / "corpus" / "hotpotqa_500" / "corpus.jsonl", work, "hotpotqa", SearchSettings().embedder())
    return anyio.run(mcp_latency, work, data, 30 if quick else 200)


def memory_latency(data: Path, embedder: Embedder, n: int, queries: int) -> dict:
    """`CaseBank.retrieve` p50 with a real query embedding each time, at `n` cases."""
    from benchmarks.memory import EmbeddingCache, build_bank, load_texts, percentile, retrieve_latencies, scaled

    texts = load_texts(data)
    vectors = EmbeddingCache(embedder).get(texts)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        bank_texts, bank_vectors = scaled(texts, vectors, n)
        log(f"memory: a bank of {n} cases...")
        bank, _ = build_bank(Path(tmp) / "bank", bank_texts, bank_vectors, embedder)
        times = retrieve_latencies(bank, [str(q) for q in rng.choice(texts, queries, replace=False)])
        bank.close()
    return {f"memory_retrieve_p50_ms_{n // 1000}k": percentile(times, 50), f"memory_retrieve_p95_ms_{n // 1000}k": percentile(times, 95)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="400 passages, 100 questions, 10k cases.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="The evaluation data folder.")
    parser.add_argument("--work", type=Path, default=None, help="Where the search benchmark index lives (reused).")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="Backends to measure (torch is always included).")
    parser.add_argument("--memory-cases", type=int, default=None, help="Case-bank size for retrieve latency (100k; quick 10k).")
    args = parser.parse_args()
    args.memory_cases = args.memory_cases or (10_000 if args.quick else 100_000)
    figures: dict = {"benchmark": "embeddings", "quick": args.quick, "cores": all_cores(), "default_backend": DEFAULT_BACKEND}
    if not (args.data / "corpus" / "hotpotqa_500").exists():
        figures["skipped"] = f"no evaluation data at {args.data} (pass --data)"
        print(json.dumps(figures))
        return
    from memento_core import paths

    names = list(dict.fromkeys(["torch", *args.backends.split(",")]))
    docs = read_jsonl(args.data / "corpus" / "hotpotqa_500" / "corpus.jsonl")[: 400 if args.quick else 1500]
    texts = [passage(d) for d in docs]
    queries = [q["question"] for q in read_jsonl(args.data / "corpus" / "hotpotqa_500" / "questions_dev.jsonl")][:50]
    log(f"baseline: plain sentence-transformers on {len(texts)} passages, {all_cores()} threads")
    rate, reference = plain_sentence_transformers(texts)
    figures["baseline_sentence_transformers_passages_per_s"] = round(rate, 1)
    embedders = {name: Embedder(backend=name, query_cache=0) for name in names}
    for name, embedder in embedders.items():
        log(f"backend {name}")
        embedder.embed(texts[:32])  # load (and export or distil on first use)
        seconds, vectors = timed(embedder.embed, texts)
        figures[f"{name}_passages_per_s"] = round(len(texts) / seconds, 1)
        figures[f"{name}_query_p50_ms"] = query_p50(embedder, name, queries)
        if name != "static":
            cosine = np.sum(vectors * reference, axis=1)
            figures[f"{name}_cosine_to_torch_min"] = round(float(cosine.min()), 5)
            figures[f"{name}_cosine_to_torch_mean"] = round(float(cosine.mean()), 5)
    best = max(figures[f"{name}_passages_per_s"] for name in names if name != "static")
    figures["best_transformer_backend_passages_per_s"] = best
    log(f"index end to end ({DEFAULT_BACKEND})")
    rate, report = index_rate(docs, DEFAULT_BACKEND)
    figures["index_passages_per_s"] = round(rate, 1)
    figures["index_report"] = report
    figures["index_ratio_to_best_backend"] = round(rate / best, 3)
    log(json.dumps(figures))
    figures.update(quality(embedders, args.data, args.quick))
    labels = ["hotpotqa_recall@10"] + (["scifact_ndcg@10"] if "scifact" not in figures else [])
    figures["quality_guard_pass"] = passing = guard(figures, labels, [n for n in names if n != "torch"])
    best_passing = max(figures[f"{n}_passages_per_s"] for n in names if n == "torch" or (passing[n] and n != "static"))
    figures["index_ratio_to_best_passing_backend"] = round(rate / best_passing, 3)
    log(json.dumps(figures))
    figures.update(search_latency(args.data, args.work or paths.cache_dir() / "benchmarks" / "embeddings", args.quick))
    figures.update(memory_latency(args.data, embedders[DEFAULT_BACKEND], args.memory_cases, 100 if args.quick else 300))
    figures["targets"] = {
        "index_ratio_to_best_backend": 0.8,
        "query_embedding_p50_ms": 5,
        "search_query_p50_ms": 15,
        "memory_retrieve_p50_ms_100k": 15,
        "quality_guard": GUARD,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

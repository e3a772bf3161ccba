"""Case-memory benchmark: retrieval latency (in-process and over MCP stdio), the authors' reference
retrieval, write and import throughput, ANN recall, and the learned scorer's AUC on Memento's
training data (whether learning helps end to end: `benchmarks.learning`).

    python -m benchmarks.memory [--quick] [--data ../shared/data]

Cases are real task texts: the QA sets in <data>/qa plus Memento's case bank (about 10k distinct
questions). Their MiniLM embeddings are computed once and cached in benchmarks/results/ (gitignored).
The 100k bank reuses them: each text ten times, copies 1..9 with a "(variant j)" suffix and their
vector jittered (Gaussian, sigma 0.02 per dimension, renormalised; cosine to the original ~0.93).
Latency queries are real, uncached embeddings of held-out or in-bank texts, retrieved with the
same-task filter on (as an evaluation does); a second pass over the same queries hits the query
embedding cache and so shows the search cost alone (retrieve_cached_query_*). The reference is the authors' algorithm: embed every
stored question again for each query, cosine, top-4, with torch's default threads (its best for
bulk embedding); it is timed on 1 query at 10k cases (--quick: 1 query at 1k cases, reported as
reference_ratio_1k). Ours runs as CaseBank does, torch held to 1 thread.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio
import numpy as np

from memento_core.embeddings import DEFAULT_MODEL, Embedder
from memento_core.vectors import top_k
from memento_memory.bank import CaseBank
from memento_memory.config import BankConfig
from memento_memory.models import CaseFilters, Transition

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "benchmarks" / "results" / "memory_embeddings.npz"
JITTER = 0.02


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def load_texts(data: Path) -> list[str]:
    texts: list[str] = []
    for name in ("deepresearcher_test.jsonl", "deepresearcher_dev.jsonl"):
        texts += [json.loads(line)["question"] for line in (data / "qa" / name).open(encoding="utf-8")]
    for name in ("simpleqa_test.csv", "frames_test.csv"):
        with (data / "qa" / name).open(encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            column = next(c for c in reader.fieldnames or [] if c.lower() in ("question", "prompt"))
            texts += [row[column] for row in reader]
    texts += [json.loads(line)["case"] for line in (data / "memory" / "memento_memory.jsonl").open(encoding="utf-8")]
    seen = dict.fromkeys(" ".join(t.split()) for t in texts if t and len(t) <= 4000)
    return list(seen)


class EmbeddingCache:
    """MiniLM vectors of texts, computed once and kept on disk."""

    def __init__(self, embedder: Embedder, path: Path = CACHE):
        self.embedder = embedder
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            stored = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def get(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            log(f"embedding {len(missing)} texts (cached for later runs)...")
            self.vectors.update(zip(missing, self.embedder.embed(missing)))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self.vectors)
            np.savez(self.path, texts=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        return np.stack([self.vectors[t] for t in texts])


class LookupEmbedder:
    """The MiniLM embedder answered from the cache (same model name, same vectors)."""

    model_name = DEFAULT_MODEL
    dim = 384

    def __init__(self, cache: EmbeddingCache):
        self.cache = cache

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.cache.get(list(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self.cache.get([text])[0]


def scaled(texts: list[str], vectors: np.ndarray, n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n cases from the distinct texts; past them, jittered "(variant j)" copies."""
    rng = np.random.default_rng(seed)
    out_texts, parts = [], []
    copy = 0
    while len(out_texts) < n:
        take = min(len(texts), n - len(out_texts))
        block = vectors[:take]
        if copy:
            block = block + JITTER * rng.standard_normal(block.shape).astype(np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            out_texts += [f"{t} (variant {copy})" for t in texts[:take]]
        else:
            out_texts += texts[:take]
        parts.append(block.astype(np.float32))
        copy += 1
    return out_texts, np.concatenate(parts)


def build_bank(db: Path, texts: list[str], vectors: np.ndarray, embedder, **options) -> tuple[CaseBank, float]:
    """A bank of these cases written in batches of 1000 with their vectors; returns it and cases/s."""
    bank = CaseBank(BankConfig(db=str(db), query_cache_size=0, **options), embedder=embedder)
    rng = np.random.default_rng(1)
    rewards = (rng.random(len(texts)) < 0.7).astype(float)
    started = time.perf_counter()
    for start in range(0, len(texts), 1000):
        cases = [{"task": t, "reward": r, "source": "benchmark"} for t, r in zip(texts[start : start + 1000], rewards[start:])]
        bank.write(cases, vectors=vectors[start : start + 1000])
    rate = len(texts) / (time.perf_counter() - started)
    bank.build_index()
    return bank, rate


def retrieve_latencies(bank: CaseBank, queries: list[str]) -> list[float]:
    bank.retrieve(queries[0], k=4)  # warm-up
    times = []
    for query in queries:
        started = time.perf_counter()
        bank.retrieve(query, k=4, filters=CaseFilters(exclude_task=query))
        times.append((time.perf_counter() - started) * 1000)
    return times


def recall_at_4(bank: CaseBank, query_vectors: np.ndarray) -> float:
    """Overlap of the index's top-4 with exact top-4 over the same stored vectors."""
    index = bank._mirror.index
    stored = index.vectors[: index.size]
    hits = 0
    for query in query_vectors:
        exact = set(top_k(stored @ query, 4).tolist())
        found, _ = index.search(query, 4)
        hits += len(exact & set(found.tolist()))
    return round(hits / (4 * len(query_vectors)), 4)


def reference_retrieval(embedder: Embedder, stored: list[str], query: str, k: int = 4) -> list[int]:
    """The authors' algorithm: embed every stored question again, then cosine top-k.

    Run with torch's default thread count (all cores), its best setting for bulk embedding."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    try:
        case_vectors = embedder.embed(stored)
        query_vector = embedder.embed([query])[0]
    finally:
        torch.set_num_threads(1)
    return top_k(case_vectors @ query_vector, k).tolist()


async def stdio_latencies(db: Path, queries: list[str], wait_for_ivf: bool) -> list[float]:
    from tests.harness import connect, payload

    env = {"MEMENTO_MEMORY_QUERY_CACHE_SIZE": "0", "HF_HUB_OFFLINE": "1"}
    async with connect("memory", "stdio", args=["--db", str(db)], env=env, read_timeout=600) as client:
        while wait_for_ivf and not payload(await client.call_tool("memory_stats", {}))["index"].startswith("ivf"):
            await anyio.sleep(0.5)
        payload(await client.call_tool("retrieve_cases", {"task": "warm up the model", "k": 4}))
        times = []
        for query in queries:
            started = time.perf_counter()
            payload(await client.call_tool("retrieve_cases", {"task": query, "k": 4, "exclude_same_task": True}))
            times.append((time.perf_counter() - started) * 1000)
        return times


def time_import(data: Path, workdir: Path) -> float:
    from memento_memory.server import SPEC
    from memento_servers.runtime import run

    started = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the result line
        status = run(SPEC, ["import", str(data / "memory" / "memento_memory.jsonl"), "--db", str(workdir / "import")])
    assert status == 0
    return round(time.perf_counter() - started, 2)


def time_embedded_writes(embedder: Embedder, texts: list[str], workdir: Path) -> float:
    bank = CaseBank(BankConfig(db=str(workdir / "writes")), embedder=embedder)
    started = time.perf_counter()
    for start in range(0, len(texts), 250):
        bank.write([{"task": t, "reward": 1.0} for t in texts[start : start + 250]])
    rate = len(texts) / (time.perf_counter() - started)
    bank.close()
    return round(rate, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--quick", action="store_true", help="1k and 10k cases, fewer queries, reference at 1k")
    args = parser.parse_args()
    if not (args.data / "qa").is_dir():
        print(json.dumps({"skipped": f"no evaluation data at {args.data}"}))
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    embedder = Embedder()
    cache = EmbeddingCache(embedder)
    import torch

    torch.set_num_threads(1)  # as CaseBank does (torch_threads=1)
    texts = load_texts(args.data)
    vectors = cache.get(texts)
    log(f"{len(texts)} distinct task texts")
    sizes = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    n_queries = 100 if args.quick else 300
    rng = np.random.default_rng(7)
    result: dict[str, object] = {"mode": "quick" if args.quick else "full", "distinct_texts": len(texts)}
    embed_times = []
    for text in rng.choice(texts, 50, replace=False):
        started = time.perf_counter()
        embedder.embed([f"{text} ?"])
        embed_times.append((time.perf_counter() - started) * 1000)
    result["query_embedding_p50_ms"] = percentile(embed_times, 50)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        lookup = LookupEmbedder(cache)
        for n in sizes:
            bank_texts, bank_vectors = scaled(texts, vectors, n)
            log(f"building a bank of {n} cases...")
            bank, rate = build_bank(workdir / f"bank{n}", bank_texts, bank_vectors, embedder)
            result[f"write_prevectorised_cases_per_s_{n // 1000}k"] = round(rate, 1)
            result[f"index_{n // 1000}k"] = bank.stats().index
            queries = [str(q) for q in rng.choice(texts, n_queries, replace=False)]
            bank.queries.cache.maxsize = len(queries) + 1  # each query is new on the first pass...
            times = retrieve_latencies(bank, queries)
            result[f"retrieve_p50_ms_{n // 1000}k"] = percentile(times, 50)
            result[f"retrieve_p95_ms_{n // 1000}k"] = percentile(times, 95)
            cached = retrieve_latencies(bank, queries)  # ...and cached on the second: search cost alone
            result[f"retrieve_cached_query_p50_ms_{n // 1000}k"] = percentile(cached, 50)
            result[f"retrieve_cached_query_p95_ms_{n // 1000}k"] = percentile(cached, 95)
            some = bank.list()[:64]  # a little offline training, so `learned` really scores its shortlist
            bank.train([Transition(task=c.task, case_id=c.id, reward=c.reward) for c in some], epochs=1)
            learned = []
            for query in queries[:50]:
                started = time.perf_counter()
                bank.retrieve(query, k=4, policy="learned", filters=CaseFilters(exclude_task=query))
                learned.append((time.perf_counter() - started) * 1000)
            result[f"retrieve_learned_p50_ms_{n // 1000}k"] = percentile(learned, 50)
            if bank.stats().index.startswith("ivf"):
                result[f"recall_at_4_{n // 1000}k"] = recall_at_4(bank, cache.get(queries[:200]))
            if n == sizes[-1] or not args.quick:
                bank.close()
                log(f"stdio latency at {n}...")
                stdio = anyio.run(stdio_latencies, workdir / f"bank{n}", queries[: n_queries // 2], n >= 20_000)
                result[f"stdio_retrieve_p50_ms_{n // 1000}k"] = percentile(stdio, 50)
                result[f"stdio_retrieve_p95_ms_{n // 1000}k"] = percentile(stdio, 95)
            else:
                bank.close()
            reference_size = 1_000 if args.quick else 10_000
            if n == reference_size:
                log(f"reference retrieval at {n} cases (1 query)...")
                started = time.perf_counter()
                reference_retrieval(embedder, bank_texts, queries[0])
                reference_s = time.perf_counter() - started
                label = f"{n // 1000}k"
                result[f"reference_s_per_query_{label}"] = round(reference_s, 2)
                result[f"reference_ratio_{label}"] = round(reference_s * 1000 / percentile(times, 50), 1)
        if "recall_at_4_100k" not in result:  # quick: force the IVF path at 10k for a recall figure
            bank_texts, bank_vectors = scaled(texts, vectors, 10_000)
            bank, _ = build_bank(workdir / "ivf10k", bank_texts, bank_vectors, lookup, ann_threshold=5_000)
            result["recall_at_4_10k_forced_ivf"] = recall_at_4(bank, cache.get(list(rng.choice(texts, 200))))
            bank.close()
        log("write throughput with embedding, and Memento import...")
        result["write_cases_per_s"] = time_embedded_writes(embedder, [f"{t} !" for t in texts[:1000]], workdir)
        result["import_memento_s"] = time_import(args.data, workdir)

        from benchmarks.scorer_auc import scorer_auc

        log("scorer AUC on Memento's training data...")
        result["training_data_auc"] = scorer_auc(args.data, cache)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

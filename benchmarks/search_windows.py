"""An experiment for issue 16: vectors of sentence-scale windows as a third ranking beside BM25 and the chunks.

    python -m benchmarks.search_windows [--quick] [--data ../shared/data]

Not a shipped ranking (README, "Tried and not kept"): it measures whether it would be worth a second
vector table. Each document is cut as the index cuts it (2,000-character chunks, 200 overlap) and again
into WINDOW-character windows (title prefixed, like every embedded chunk). Per query and per document:
the in-memory BM25 score (the server's LexicalIndex, titles twice), the best chunk's cosine and the
best window's cosine (default int8 embedder, exact scan), each list cut to the top 20. Every weight
setting of GRID is fused by the server's min-max fusion; the setting with the best mean of the two
sets' tune halves (seed 16, as `benchmarks.search`) is reported on the untouched halves beside the
default ranking (the settings' BM25 weight, chunk vectors 1) and beside weights 2 : 1 : 1 (the best on
SciFact's tune half alone), each also over SEEDS' untouched halves. Chunk size, overlap, depth and the
BM25 weight are the search server's defaults (`SearchSettings`).

--quick takes 100 / 200 questions and only the documents they need plus 1,500 others per set, so its
figures are higher than a full run's and only show that the code runs. Progress goes to stderr; the
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path

import numpy as np

from benchmarks.search import ROOT, SEED, halves, log, ndcg_at, read_jsonl, recall_at, scifact_queries

WINDOW, WINDOW_OVERLAP = 400, 100
GRID = list(itertools.product((1.0, 1.25, 1.5, 2.0), (0.5, 1.0), (0.0, 0.25, 0.5, 0.75, 1.0)))
SEEDS = range(21)


def hotpotqa(data: Path, quick: bool):
    folder = data / "corpus" / "hotpotqa_500"
    questions = read_jsonl(folder / "questions_dev.jsonl")[: 100 if quick else None]
    return read_jsonl(folder / "corpus.jsonl"), [q["question"] for q in questions], [q["gold_ids"] for q in questions], recall_at


def scifact(data: Path, quick: bool):
    folder = data / "corpus" / "scifact"
    queries, rels = scifact_queries(folder, quick)
    return read_jsonl(folder / "corpus.jsonl"), queries, rels, ndcg_at


def trimmed(corpus: list[dict], truth: list) -> list[dict]:
    """--quick: the documents the questions need, and the first 1,500 others."""
    needed = {doc for gold in truth for doc in gold}
    return [doc for i, doc in enumerate(corpus) if doc["_id"] in needed or i < 1500]


def pieces(corpus: list[dict], chars: int, overlap: int) -> tuple[list[str], list[str], list[str]]:
    """(document id, title, title + text) of every piece of every document, cut as the indexer cuts."""
    from memento_core.text.chunks import chunk_text
    from memento_servers.search.store import content

    out = [
        (doc["_id"], doc.get("title", ""), content(doc.get("title", ""), text))
        for doc in corpus
        for text in chunk_text(doc["text"], chars, overlap)
    ]
    return [p[0] for p in out], [p[1] for p in out], [p[2] for p in out]


def best_per_document(doc_ids: list[str], scored: list[tuple[int, float]], count: int) -> dict[str, float]:
    """The `count` best documents of a best-first list of (piece, score), each by its best piece."""
    best: dict[str, float] = {}
    for piece, score in scored:
        best.setdefault(doc_ids[piece], score)
        if len(best) == count:
            break
    return best


def nearest(vectors: np.ndarray, query: np.ndarray, count: int) -> list[tuple[int, float]]:
    """The `count` pieces closest to the query, best first (exact scan)."""
    scores = vectors @ query
    top = np.argpartition(-scores, count)[:count]
    return [(int(i), float(scores[i])) for i in top[np.argsort(-scores[top], kind="stable")]]


def rankings(corpus: list[dict], queries: list[str], embedder, settings) -> list[tuple[dict, dict, dict]]:
    """Per query: BM25, chunk-vector and window-vector scores of its top `settings.fusion_depth` documents."""
    from memento_servers.search.lexical import LexicalIndex
    from memento_servers.search.store import content

    depth = settings.fusion_depth
    chunk_docs, titles, chunks = pieces(corpus, settings.chunk_chars, settings.chunk_overlap)
    window_docs, _, windows = pieces(corpus, WINDOW, WINDOW_OVERLAP)
    lexical = LexicalIndex([str(i) for i in range(len(chunks))], [content(t, c) for t, c in zip(titles, chunks, strict=True)])
    log(f"embedding {len(chunks)} chunks and {len(windows)} windows")
    chunk_vectors, window_vectors = embedder.embed(chunks), embedder.embed(windows)
    out = []
    for query in queries:
        text = [(int(item), score) for item, score in lexical.top(lexical.weights_of(query), 10 * depth)]
        vector = embedder.embed_query(query)
        out.append(
            (
                best_per_document(chunk_docs, text, depth),
                best_per_document(chunk_docs, nearest(chunk_vectors, vector, 10 * depth), depth),
                best_per_document(window_docs, nearest(window_vectors, vector, 10 * depth), depth),
            )
        )
    return out


def per_query(ranked: list[tuple[dict, dict, dict]], truth: list, metric, weights: tuple[float, float, float]) -> list[float]:
    from memento_servers.search.fusion import minmax

    used = [i for i, weight in enumerate(weights) if weight]
    scores = []
    for lists, gold in zip(ranked, truth, strict=True):
        fused = minmax([lists[i] for i in used], [weights[i] for i in used])
        scores.append(metric([doc for doc, _ in fused[:10]], gold))
    return scores


def mean_on(scores: list[float], positions: list[int]) -> float:
    return round(statistics.mean(scores[i] for i in positions), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer questions over a trimmed corpus: checks the code runs.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="The evaluation data folder.")
    args = parser.parse_args()
    figures: dict = {"benchmark": "search_windows", "quick": args.quick, "seed": SEED, "window_chars": WINDOW}
    sets = {"hotpotqa": hotpotqa, "scifact": scifact}
    missing = [folder for folder in ("hotpotqa_500", "scifact") if not (args.data / "corpus" / folder).exists()]
    if missing:
        figures["skipped"] = f"no {', '.join(missing)} under {args.data}/corpus (pass --data)"
        print(json.dumps(figures))
        return
    from memento_servers.search.config import SearchSettings

    settings = SearchSettings()
    embedder = settings.embedder()
    default = (settings.fts_weight, 1.0, 0.0)  # BM25, chunk vectors, window vectors: today's ranking
    scored = {}
    for name, load in sets.items():
        corpus, queries, truth, metric = load(args.data, args.quick)
        ranked = rankings(trimmed(corpus, truth) if args.quick else corpus, queries, embedder, settings)
        scored[name] = {weights: per_query(ranked, truth, metric, weights) for weights in {default, *GRID}}
        log(f"{name}: {len(queries)} questions ranked")
    tune = {name: halves(len(next(iter(s.values()))), SEED)[0] for name, s in scored.items()}
    chosen = max(GRID, key=lambda w: statistics.mean(mean_on(scored[name][w], tune[name]) for name in scored))
    figures["chosen_on_tune_halves"] = dict(zip(("bm25", "chunk_vectors", "window_vectors"), chosen))
    for name, by_weights in scored.items():
        count = len(by_weights[default])
        tune_half, untouched = halves(count, SEED)
        seeds = [halves(count, seed)[1] for seed in SEEDS]
        figures[name] = {
            system: {
                "tune": mean_on(by_weights[weights], tune_half),
                "untouched": mean_on(by_weights[weights], untouched),
                "untouched_21_seeds_mean": round(statistics.mean(mean_on(by_weights[weights], half) for half in seeds), 4),
            }
            for system, weights in (("default", default), ("with_windows", chosen), ("windows_2_1_1", (2.0, 1.0, 1.0)))
        }
        figures[name]["with_windows_better_on_seeds"] = sum(
            mean_on(by_weights[chosen], half) > mean_on(by_weights[default], half) for half in seeds
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

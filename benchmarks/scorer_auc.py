"""The learned scorer's AUC on Memento's training data, for `benchmarks.memory`.

Memento's training_data.jsonl (query x 8 candidate cases, label: did the query succeed) split 80/20
by query (no query on both sides); the scorer is trained on the training queries and scored on the
held-out ones, beside cosine(query, case). The authors' row-level split (which leaks queries) is
shown for contrast. Whether learning helps an agent end to end is `benchmarks.learning`'s question.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from memento_memory.scorer import Scorer
from memento_memory.trainer import OnlineTrainer


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    positives = labels.astype(bool)
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _fit_and_score(train: np.ndarray, test: np.ndarray, arrays: tuple) -> float:
    queries, cases, rewards, labels = arrays
    scorer = Scorer(queries.shape[1], checkpoint=None)
    written = np.full(len(train), "", dtype=object)  # imported rows carry no provenance
    OnlineTrainer(scorer).fit((queries[train], cases[train], rewards[train], labels[train], written), epochs=10)
    predicted = np.concatenate(
        [scorer.score(queries[test][i : i + 512], cases[test][i : i + 512], rewards[test][i : i + 512])
         for i in range(0, len(test), 512)]
    )
    return round(auc(predicted, labels[test]), 4)


def scorer_auc(data: Path, cache) -> dict:
    rows = [json.loads(line) for line in (data / "memory" / "memento_training_data.jsonl").open(encoding="utf-8")]
    queries = cache.get([row["query"] for row in rows])
    cases = cache.get([row["case"] for row in rows])
    rewards = np.array([1.0 if row["case_label"] == "positive" else 0.0 for row in rows], dtype=np.float32)
    labels = np.array([float(row["truth_label"]) for row in rows], dtype=np.float32)
    arrays = (queries, cases, rewards, labels)
    rng = np.random.default_rng(0)
    unique = sorted({row["query"] for row in rows})
    held_out = set(rng.permutation(unique)[: len(unique) // 5].tolist())
    test = np.array([i for i, row in enumerate(rows) if row["query"] in held_out])
    train = np.array([i for i, row in enumerate(rows) if row["query"] not in held_out])
    rows_perm = rng.permutation(len(rows))
    leaky_test, leaky_train = rows_perm[: len(rows) // 5], rows_perm[len(rows) // 5 :]
    cosine = np.sum(queries * cases, axis=1)
    return {
        "rows": len(rows),
        "held_out_queries": len(held_out),
        "learned_auc_grouped_split": _fit_and_score(train, test, arrays),
        "cosine_auc_grouped_split": round(auc(cosine[test], labels[test]), 4),
        "learned_auc_row_split_leaky": _fit_and_score(leaky_train, leaky_test, arrays),
    }

"""Learned-policy figures for `benchmarks.memory`: the online policy simulation and the scorer's AUC.

Simulation (seed 0). Tasks have a latent type k in 0..3, written as a question about an invented
entity of domain k ("film", "river", "chemical compound", "football club"). The bank holds 40 seed
cases (10 per domain, reward 1: each worked for its own task) whose plan follows strategy
(domain + 1) mod 4. A task of type k succeeds with probability 0.1 + 0.8 * (the share of its 4
retrieved cases whose strategy is k): the cases that read most like the task (same domain) carry
the wrong strategy, and the useful ones read like another domain. Every round, 16 tasks are drawn
(identically for both policies, with identical random draws for the outcomes); each policy
retrieves 4 seed cases, the outcome is drawn, and the episode is written back with write semantics
(reward + retrieved case ids), so `learned` trains online in the background between rounds
(Boltzmann temperature 0.3 for exploration). No offline step.

AUC. Memento's training_data.jsonl (query x 8 candidate cases, label: did the query succeed)
split 80/20 by query (no query on both sides), the scorer trained on the training queries and
scored on the held-out ones, beside cosine(query, case). The authors' row-level split (which
leaks queries) is shown for contrast.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from memento_memory.bank import CaseBank
from memento_memory.config import BankConfig
from memento_memory.models import CaseFilters
from memento_memory.scorer import Scorer
from memento_memory.trainer import OnlineTrainer

DOMAINS = ("film", "river", "chemical compound", "football club")
TEMPLATES = (
    "What is known about the {noun} called {name}?",
    "Find the key facts on {name}, the {noun}.",
    "Which records describe the {noun} {name}?",
)
SYLLABLES = ("ka", "lo", "mer", "vin", "dra", "sel", "tor", "bu", "fen", "qui", "ra", "zo")


def names(count: int, rng: np.random.Generator) -> list[str]:
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice(SYLLABLES, 3)).capitalize())
    return sorted(out)


def text(domain: int, name: str, template: int) -> str:
    return TEMPLATES[template].format(noun=DOMAINS[domain], name=name)


def simulate(cache, workdir: Path, rounds: int = 30, per_round: int = 16) -> dict:
    from benchmarks.memory import LookupEmbedder

    rng = np.random.default_rng(0)
    pool = names(80, rng)
    case_names, task_names = pool[:40], pool[40:]
    seeds = [
        {"id": f"seed-{d}-{i}", "task": text(d, case_names[d * 10 + i], i % 3), "plan": {"strategy": (d + 1) % 4},
         "reward": 1.0, "tags": ["seed"]}
        for d in range(4) for i in range(10)
    ]
    strategy = {case["id"]: case["plan"]["strategy"] for case in seeds}
    tasks = [
        [(int(k), text(int(k), str(rng.choice(task_names)), int(rng.integers(3))), float(rng.random()))
         for k in rng.integers(0, 4, per_round)]
        for _ in range(rounds)
    ]
    cache.get([case["task"] for case in seeds] + [t for round_ in tasks for _, t, _ in round_])
    rates: dict[str, list[float]] = {}
    for policy in ("similarity", "learned"):
        config = BankConfig(db=str(workdir / f"sim-{policy}"), refresh_interval_s=5)
        with CaseBank(config, embedder=LookupEmbedder(cache)) as bank:
            bank.rng = np.random.default_rng(1)
            bank.write(seeds)
            rates[policy] = []
            for round_ in tasks:
                wins = 0
                for kind, task, draw in round_:
                    found = bank.retrieve(task, k=4, policy=policy, temperature=0.3, filters=CaseFilters(tags=["seed"]))
                    share = np.mean([strategy[case_id] == kind for case_id in found.ids])
                    success = draw < 0.1 + 0.8 * share
                    wins += success
                    bank.write([{"task": task, "reward": float(success), "retrieved_case_ids": found.ids, "tags": ["episode"]}])
                bank.wait_trained(120)
                rates[policy].append(round(wins / len(round_), 3))
    quarter = max(1, rounds // 4)
    last = {policy: round(float(np.mean(values[-quarter:])), 3) for policy, values in rates.items()}
    return {
        "rounds": rounds,
        "tasks_per_round": per_round,
        "success_per_round": rates,
        "last_quarter_success": last,
        "learned_minus_similarity_points": round(100 * (last["learned"] - last["similarity"]), 1),
    }


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
    OnlineTrainer(scorer).fit((queries[train], cases[train], rewards[train], labels[train]), epochs=10)
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

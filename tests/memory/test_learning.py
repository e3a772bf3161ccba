"""The learned policy: it learns online from write_case rewards and other processes reuse it."""

from __future__ import annotations

from memento_memory.bank import CaseBank
from memento_memory.models import CaseFilters

SEEDS = [
    # very similar wording to the queries, but its plan fails for them
    {"task": "capital city of France question answer", "reward": 1.0, "tags": ["seed"], "id": "look-alike"},
    # less similar wording, but its plan works
    {"task": "Paris lookup procedure for countries", "reward": 1.0, "tags": ["seed"], "id": "useful"},
]
QUERIES = [f"What is the capital city of France, question {i}?" for i in range(12)]
SEEDS_ONLY = CaseFilters(tags=["seed"])


def teach(bank: CaseBank) -> None:
    for query in QUERIES:
        bank.write(
            [
                {"task": query, "reward": 0.0, "retrieved_case_ids": ["look-alike"], "tags": ["episode"]},
                {"task": query, "reward": 1.0, "retrieved_case_ids": ["useful"], "tags": ["episode"]},
            ]
        )
    assert bank.wait_trained(60)


def test_learned_policy_learns_online_to_prefer_the_case_that_worked(bank):
    bank.write(SEEDS)
    query = "What is the capital city of France?"
    assert bank.retrieve(query, k=1, filters=SEEDS_ONLY).ids == ["look-alike"]
    assert bank.retrieve(query, k=1, policy="learned", filters=SEEDS_ONLY).ids == ["look-alike"]  # untrained
    teach(bank)
    learned = bank.retrieve(query, k=2, policy="learned", filters=SEEDS_ONLY)
    assert learned.ids == ["useful", "look-alike"]
    assert learned.positive[0].score > learned.positive[1].score
    stats = bank.stats().scorer
    assert stats.transitions == 2 * len(QUERIES) and stats.trained_steps > 0


def test_another_bank_instance_reuses_the_saved_scorer(config):
    query = "What is the capital city of France?"
    with CaseBank.open(config) as first:
        first.write(SEEDS)
        teach(first)
    with CaseBank.open(config) as second:  # as another process would
        assert second.stats().scorer.checkpoint is not None
        assert second.retrieve(query, k=1, policy="learned", filters=SEEDS_ONLY).ids == ["useful"]


def test_boltzmann_sampling_returns_k_distinct_cases_from_the_shortlist(bank):
    bank.write(SEEDS + [{"task": f"other capital question {i}", "reward": 1.0, "tags": ["seed"]} for i in range(6)])
    teach(bank)
    for _ in range(5):
        found = bank.retrieve("capital of France", k=3, policy="learned", temperature=1.0, filters=SEEDS_ONLY)
        assert len(set(found.ids)) == 3

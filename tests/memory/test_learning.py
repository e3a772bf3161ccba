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


def teach(bank: CaseBank, rounds: int = 3) -> None:
    for query in QUERIES * rounds:
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
    assert stats.transitions == 6 * len(QUERIES) and stats.trained_steps > 0 and stats.gate.open


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


def test_a_scorer_that_learned_nothing_never_changes_similaritys_order(config):
    """Rewards that are noise: the learned head cannot beat the prior, so the gate stays shut."""
    import numpy as np

    rng = np.random.default_rng(0)
    with CaseBank.open(config.model_copy(update={"gate_min_tasks": 8})) as bank:
        bank.write([{"task": f"question {i} about topic {i % 7}", "reward": float(i % 2)} for i in range(40)])
        ids = [c.id for c in bank.list()]
        for n in range(60):
            bank.write([{"task": f"new question {n} on topic {n % 7}", "reward": float(rng.random() < 0.5),
                         "retrieved_case_ids": list(rng.choice(ids, 4, replace=False))}])
        assert bank.wait_trained(60) and bank.stats().scorer.trained_steps > 0
        bank.learning.refresh()
        gate = bank.stats().scorer.gate
        assert not gate.open and gate.tasks >= 8, gate
        for query in ["question about topic 3", "topic 5 question", "something else entirely"]:
            assert bank.retrieve(query, k=6, policy="learned").ids == bank.retrieve(query, k=6).ids


def test_the_gate_opens_on_held_out_evidence_and_closes_when_it_stops(monkeypatch):
    import numpy as np

    from memento_memory.gate import gate_state

    rng = np.random.default_rng(1)
    rewards = (rng.random(400) < 0.5).astype(float)
    groups = np.array([f"task-{i // 4}" for i in range(400)], dtype=object)  # four transitions per task
    sharp = np.where(rewards == 1, 0.8, 0.2)
    blunt = np.full(400, 0.5)
    assert gate_state(rewards, sharp, blunt, groups, 400, 24, 1.5, False).open  # learned predicts better
    assert not gate_state(rewards, blunt, sharp, groups, 400, 24, 1.5, False).open  # prior predicts better
    assert not gate_state(rewards, blunt, blunt, groups, 400, 24, 1.5, False).open  # no better: similarity stands
    assert not gate_state(rewards[:40], sharp[:40], blunt[:40], groups[:40], 400, 24, 1.5, False).open  # 10 tasks: too few
    unscored = np.full(400, np.nan)
    assert gate_state(rewards, unscored, unscored, groups, 400, 24, 1.5, False).tasks == 0
    # once open, no clear difference keeps it open (no contrast is no evidence against it) ...
    assert gate_state(rewards, blunt, blunt, groups, 400, 24, 1.5, True).open
    # ... but the world changed: the learned head's latest predictions are wrong, and the window only sees those
    later = np.concatenate([sharp[:200], 1 - sharp[200:]])
    assert not gate_state(rewards, later, blunt, groups, 200, 24, 1.5, True).open


def test_exploration_samples_beyond_the_top_k_and_temperature_zero_does_not(bank):
    bank.write([{"task": f"capital question number {i}", "reward": 1.0} for i in range(30)])
    greedy = {tuple(bank.retrieve("capital question", k=3, policy="learned").ids) for _ in range(5)}
    sampled = {tuple(bank.retrieve("capital question", k=3, policy="learned", temperature=2.0).ids) for _ in range(10)}
    assert len(greedy) == 1 and greedy == {tuple(bank.retrieve("capital question", k=3).ids)}
    assert len(sampled) > 1 and all(len(set(ids)) == 3 for ids in sampled)


def test_a_new_reward_relabels_the_tasks_transitions_and_trains_on_them(bank):
    bank.write(SEEDS)
    report = bank.write([{"task": QUERIES[0], "reward": 1.0, "retrieved_case_ids": ["look-alike", "useful"]}])
    written = report.created[0]
    assert bank.wait_trained(60)
    steps = bank.stats().scorer.trained_steps
    bank.update(written, reward=0.0)  # a user's later verdict: it was wrong after all
    assert bank.wait_trained(60) and bank.stats().scorer.trained_steps > steps
    rows = bank.store.read_transitions().to_pylist()
    assert [(r["from_case"], r["reward"]) for r in rows] == [(written, 0.0), (written, 0.0)]


def test_a_fresh_process_sees_the_last_training_loss_and_the_gate(config):
    with CaseBank.open(config) as first:
        first.write(SEEDS)
        teach(first)
        trained = first.stats().scorer
    with CaseBank.open(config) as second:
        state = second.stats().scorer
        assert state.last_loss is not None and abs(state.last_loss - trained.last_loss) < 1e-6
        assert state.gate == trained.gate and state.gate.tasks > 0


def test_utilities_follow_recent_outcomes_and_credit_flows_back_along_provenance():
    from memento_memory.utility import Utilities

    utilities = Utilities(rate=0.5, depth=1, decay=0.5)
    start = {"a": 1.0, "b": 1.0, "w1": 0.0}.get
    utilities.observe("w1", ["a"], 1.0, start)  # task w1 used a, and worked
    utilities.observe("w2", ["w1", "b"], 0.0, start)  # task w2 used w1 (whose task used a) and b: failed
    assert utilities.values["b"] == 0.5 and utilities.values["w1"] == 0.0
    assert utilities.values["a"] == 1.0 - 0.5 * 0.5 * 1.0  # one step back: half the step
    for _ in range(3):
        utilities.observe("", ["b"], 0.0, start)  # b keeps misleading: its standing drops fast
    assert utilities.of(["b", "never-used"], [1.0, 0.7]) == [0.0625, 0.7]


def test_an_older_banks_transitions_table_is_upgraded_in_place(config):
    import lancedb
    import pyarrow as pa

    from memento_memory.store import LATER_TRANSITION_COLUMNS

    with CaseBank.open(config) as bank:
        bank.write(SEEDS)
    db = lancedb.connect(config.database())
    old = pa.schema([f for f in db.open_table("transitions").schema if f.name not in LATER_TRANSITION_COLUMNS])
    db.create_table("transitions", schema=old, mode="overwrite")
    with CaseBank.open(config) as bank:
        report = bank.write([{"task": QUERIES[0], "reward": 1.0, "retrieved_case_ids": ["useful"]}])
        assert report.transitions == 1
        assert bank.store.read_transitions().column("from_case").to_pylist() == [report.created[0]]


def test_every_bank_sharing_the_table_agrees_on_the_gate_and_the_utilities(config):
    shared = config.model_copy(update={"utility_weight": 1.0})
    with CaseBank.open(shared) as writer, CaseBank.open(shared) as reader:  # as two processes would
        writer.write(SEEDS)
        teach(writer)
        reader.sync()
        reader.learning.refresh()
        assert reader.stats().scorer.gate == writer.stats().scorer.gate
        assert list(reader.learning.utilities(["useful", "look-alike"], [1.0, 1.0])) == list(
            writer.learning.utilities(["useful", "look-alike"], [1.0, 1.0])
        )
        useful, misleading = writer.learning.utilities(["useful", "look-alike"], [1.0, 1.0])
        assert useful > 0.9 and misleading < 0.1  # the case that kept failing lost its standing

"""The `CaseBank` Python API on real LanceDB: writing, retrieving, filters, updates, limits."""

from __future__ import annotations

import pytest

from memento_memory.bank import CaseBank
from memento_memory.errors import CaseNotFoundError, InvalidCaseError, ModelMismatchError
from memento_memory.models import CaseFilters
from memento_memory.reindex import reindex

CASES = [
    {"task": "What is the capital of France?", "plan": {"plan": [{"id": 1, "description": "Look up France"}]}, "reward": 1.0, "tags": ["geo"]},
    {"task": "What is the capital of Spain?", "plan": {"plan": []}, "reward": 0.0, "tags": ["geo"], "source": "grader"},
    {"task": "Who wrote the play Hamlet?", "plan": "search the author", "reward": 1.0, "tags": ["books"]},
]


def test_retrieve_splits_the_most_similar_cases_by_reward(bank):
    bank.write(CASES)
    found = bank.retrieve("What is the capital of Italy?", k=2)
    assert [c.task for c in found.positive] == ["What is the capital of France?"]
    assert [c.task for c in found.negative] == ["What is the capital of Spain?"]
    assert found.positive[0].plan == CASES[0]["plan"] and found.positive[0].similarity > 0


def test_an_empty_bank_returns_no_cases(bank):
    found = bank.retrieve("anything", k=4)
    assert found.positive == [] and found.negative == []


def test_filters_select_by_tag_source_reward_and_exclude_the_same_task(bank):
    bank.write(CASES)
    task = "What is the capital of France?"
    assert [c.task for c in bank.retrieve(task, k=3, filters=CaseFilters(tags=["books"])).positive] == [CASES[2]["task"]]
    assert [c.source for c in bank.retrieve(task, filters=CaseFilters(source="grader")).negative] == ["grader"]
    rewarded = bank.retrieve(task, k=3, filters=CaseFilters(min_reward=0.5))
    assert rewarded.negative == [] and sorted(c.task for c in rewarded.positive) == sorted([CASES[0]["task"], CASES[2]["task"]])
    found = bank.retrieve(task, k=3, filters=CaseFilters(exclude_task="  what is THE capital of france "))
    assert task not in [c.task for c in found.positive + found.negative]
    untagged = bank.retrieve(task, k=3, filters=CaseFilters(exclude_tags=["books"]))
    assert untagged.ids and all("books" not in c.tags for c in untagged.positive + untagged.negative)
    assert all("books" not in c.tags for c in bank.list(CaseFilters(exclude_tags=["books"])))


def test_a_retried_write_with_the_same_id_is_stored_once(bank):
    first = bank.write([{**CASES[0], "id": "run-7:case"}])
    again = bank.write([{**CASES[0], "id": "run-7:case", "reward": 0.0}])
    assert first.created == ["run-7:case"] and again.created == []
    assert again.cases[0].reward == 1.0  # the stored version is returned, not overwritten
    assert len(bank.list()) == 1


def test_update_quarantine_restore_and_delete(bank):
    case = bank.write(CASES[:1]).cases[0]
    updated = bank.update(case.id, reward=0.2, tags=["graded"])
    assert (updated.reward, updated.outcome, updated.tags) == (pytest.approx(0.2), "failure", ["graded"])
    assert updated.created_at == case.created_at and updated.updated_at > case.updated_at
    bank.quarantine(case.id)
    assert bank.retrieve(case.task).ids == []
    assert bank.retrieve(case.task, filters=CaseFilters(include_quarantined=True)).ids == [case.id]
    bank.restore(case.id)
    assert bank.retrieve(case.task).ids == [case.id]
    assert bank.delete([case.id, "never-existed"]) == [case.id]
    with pytest.raises(CaseNotFoundError):
        bank.get(case.id)


def test_bad_input_gets_actionable_errors(bank, config):
    with pytest.raises(InvalidCaseError, match="over the limit of 4000"):
        bank.write([{"task": "x" * 5000, "reward": 1}])
    with pytest.raises(InvalidCaseError, match="plan is .* over the limit"):
        bank.write([{"task": "t", "plan": {"steps": "y" * 30000}, "reward": 1}])
    with pytest.raises(InvalidCaseError, match="reward"):
        bank.write([{"task": "t", "reward": 3}])
    with pytest.raises(InvalidCaseError, match="invalid case id"):
        bank.delete(["bad id'; drop"])
    with pytest.raises(InvalidCaseError, match="updatable fields"):
        bank.write(CASES[:1])
        bank.update(bank.list()[0].id, task="new text")
    with pytest.raises(InvalidCaseError, match="k must be between 1 and 50"):
        bank.retrieve("t", k=51)


def test_cases_survive_reopening_and_carry_provenance(config):
    with CaseBank.open(config) as bank:
        written = bank.write([{**CASES[0], "source": "agent", "run_id": "r1"}]).cases[0]
    with CaseBank.open(config) as bank:
        stored = bank.get(written.id)
    assert (stored.source, stored.run_id, stored.trust) == ("agent", "r1", "trusted")


def test_opening_with_another_model_is_refused_until_reindexed(config, minilm):
    with CaseBank.open(config) as bank:
        bank.write(CASES)
    other = config.model_copy(update={"model": "all-MiniLM-L6-v2"})
    with pytest.raises(ModelMismatchError, match="reindex"):
        CaseBank.open(other, embedder=minilm)
    assert reindex(other, embedder=minilm) == 3
    with CaseBank.open(other, embedder=minilm) as bank:
        assert bank.stats().embedding_model == "all-MiniLM-L6-v2"
        assert bank.retrieve("Which city is France's capital?", k=1).positive[0].task == CASES[0]["task"]


def test_minilm_retrieval_finds_paraphrases_not_word_overlap(tmp_path, minilm):
    from memento_memory.config import BankConfig

    with CaseBank.open(BankConfig(db=str(tmp_path / "b")), embedder=minilm) as bank:
        bank.write(
            [
                {"task": "Who directed the movie Jaws?", "reward": 1},
                {"task": "How many moons does Jupiter have?", "reward": 1},
                {"task": "Who is the author of the novel Jaws?", "reward": 1},
            ]
        )
        found = bank.retrieve("Name the film-maker behind Jaws", k=1)
    assert found.positive[0].task == "Who directed the movie Jaws?"


def test_stats_counts_cases_and_reports_model_and_index(bank):
    bank.write(CASES)
    bank.quarantine(bank.list()[0].id)
    stats = bank.stats()
    assert (stats.cases, stats.trusted, stats.quarantined) == (3, 2, 1)
    assert stats.positive + stats.negative == 2
    assert (stats.embedding_model, stats.embedding_dim, stats.index) == ("feature-hash", 384, "exact")

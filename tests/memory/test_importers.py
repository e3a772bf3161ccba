"""Reading Memento's JSONL files and our own."""

from __future__ import annotations

import pytest

from memento_memory.errors import InvalidCaseError
from memento_memory.importers import content_id, read_cases, read_transitions
from tests.memory.conftest import MEMENTO_CASES, MEMENTO_TRAINING


def test_memento_cases_keep_their_plan_label_and_get_content_ids():
    cases = list(read_cases(MEMENTO_CASES))
    assert len(cases) == 60
    first = cases[0]
    assert first.task == "What sport does Deportivo Cali play?" and first.reward == 1.0
    assert first.plan["plan"][0]["id"] == 1 and first.outcome == "positive"
    assert first.id == content_id(first.task, first.plan) and first.source == "memento:memento_memory_sample.jsonl"
    assert {c.reward for c in cases} == {0.0, 1.0}


def test_a_question_reward_line_and_our_own_format_are_read(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"question": "Q1?", "plan": "not json", "reward": 0.5}\n\n'
        '{"task": "T2", "reward": 1, "tags": ["x"], "source": "agent"}\n'
    )
    first, second = read_cases(path, tags=["imported"])
    assert (first.task, first.plan, first.reward, first.tags) == ("Q1?", "not json", 0.5, ["imported"])
    assert (second.source, second.tags) == ("agent", ["imported", "x"])


def test_a_broken_line_is_reported_with_its_line_number(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "ok", "reward": 1}\n{oops\n')
    with pytest.raises(InvalidCaseError, match="broken.jsonl:2: not JSON"):
        list(read_cases(path))


def test_memento_training_rows_become_transitions_for_known_cases():
    known = {content_id(c.task, c.plan) for c in read_cases(MEMENTO_CASES)}
    transitions = list(read_transitions(MEMENTO_TRAINING, lambda task, plan: content_id(task, plan) if content_id(task, plan) in known else None))
    assert len(transitions) == 141
    assert {t.reward for t in transitions} == {0.0, 1.0}

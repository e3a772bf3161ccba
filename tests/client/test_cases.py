"""Reading and writing cases through whatever memory tool schema a server declares."""

from __future__ import annotations

from memento_client.loop.cases import Case, _cases_in, _fill
from memento_client.loop.planner import cases_text
from memento_client.mcp.host import ToolInfo


def _tool(**properties) -> ToolInfo:
    return ToolInfo("memory", "retrieve_cases", "memory__retrieve_cases", "d", {"type": "object", "properties": properties})


def test_arguments_go_to_the_names_the_schema_declares():
    tool = _tool(question={}, top_k={})
    assert _fill(tool, {("query", "task", "question"): "Q", ("k", "top_k"): 3, ("policy",): "learned"}) == {"question": "Q", "top_k": 3}


def test_cases_are_read_from_lists_wrappers_and_positive_negative_splits():
    raw = {"id": "a", "task": "T", "plan": ["p"], "answer": "x", "reward": 0.2}
    assert [c.id for c in _cases_in([raw])] == ["a"]
    assert [c.id for c in _cases_in({"cases": [raw]})] == ["a"]
    split = _cases_in({"positive": [raw], "negative": [{"case_id": "b", "question": "U", "reward": 0.9}]})
    assert [(c.id, c.task, c.positive) for c in split] == [("a", "T", True), ("b", "U", False)]  # the server's split wins


def test_the_planner_sees_successes_and_failures_apart():
    text = cases_text([Case("1", "won task", {"plan": ["a"]}, "yes", 1.0), Case("2", "lost task", "b", None, 0.0)])
    assert text.index("Successful cases") < text.index("won task") < text.index("Failed cases") < text.index("lost task")
    assert '[case 1]\nTask: won task\nPlan: {"plan": ["a"]}\nAnswer: yes' in text
    assert cases_text([]) == ""

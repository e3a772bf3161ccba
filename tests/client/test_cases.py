"""The memory tools' contract: arguments by the real tools' parameter names, results read with the memory models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mcp import Client

from memento_client.errors import ClientError
from memento_client.loop.cases import read_result, retrieve_arguments, write_arguments
from memento_client.loop.planner import cases_text
from memento_client.mcp.host import ToolOutcome
from memento_memory.models import NewCase, RetrievedCase, RetrievedCases, WriteReport
from memento_memory.server import MemorySettings
from memento_memory.server import build_server as build_memory

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _case(id: str, task: str, plan, answer: str, reward: float) -> RetrievedCase:
    return RetrievedCase(id=id, task=task, plan=plan, answer=answer, reward=reward, similarity=0.5, created_at=NOW, updated_at=NOW)


def _found(positive=(), negative=()) -> RetrievedCases:
    return RetrievedCases(task="T", policy="similarity", positive=list(positive), negative=list(negative), reward_threshold=0.5)


@pytest.mark.anyio
async def test_arguments_are_the_memory_tools_own_parameters():
    async with Client(build_memory(MemorySettings())) as client:
        schemas = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    case = NewCase(task="T", plan=["a"], answer="x", reward=1.0, retrieved_case_ids=["c1"], run_id="r", source="s")
    retrieving = retrieve_arguments("T", 4, "learned", temperature=0.2, exclude_own=True, own_tag="task:set:1")
    assert retrieving == {"task": "T", "k": 4, "policy": "learned", "temperature": 0.2, "exclude_same_task": True, "exclude_tags": ["task:set:1"]}
    assert retrieve_arguments("T", 4, "similarity", temperature=0.2) == {"task": "T", "k": 4, "policy": "similarity"}
    for tool, arguments in [("retrieve_cases", retrieving), ("write_case", write_arguments(case))]:
        declared, required = set(schemas[tool]["properties"]), set(schemas[tool].get("required", []))
        assert required <= set(arguments) <= declared, tool
    assert write_arguments(case) == {"task": "T", "plan": ["a"], "answer": "x", "reward": 1.0, "retrieved_case_ids": ["c1"], "run_id": "r", "source": "s"}


def test_results_are_read_with_the_memory_models():
    found = _found([_case("a", "T", ["p"], "x", 0.9)], [_case("b", "U", None, "", 0.1)])
    read = read_result(ToolOutcome("", False, found.model_dump(mode="json")), RetrievedCases, "retrieve_cases")
    assert read is not None and [c.id for c in read.positive] == ["a"] and read.ids == ["a", "b"]
    assert read_result(ToolOutcome(found.model_dump_json(), False), RetrievedCases, "retrieve_cases") == read
    with pytest.raises(ClientError, match="^retrieve_cases failed: boom$"):
        read_result(ToolOutcome("boom", True), RetrievedCases, "retrieve_cases")
    with pytest.raises(ClientError, match="^write_case returned no WriteReport: Field required$"):  # not the contract
        read_result(ToolOutcome("", False, {"case_id": "x"}), WriteReport, "write_case")


def test_the_planner_sees_successes_and_failures_apart():
    text = cases_text(_found([_case("1", "won task", {"plan": ["a"]}, "yes", 1.0)], [_case("2", "lost task", "b", "", 0.0)]))
    assert text.index("Successful cases") < text.index("won task") < text.index("Failed cases") < text.index("lost task")
    assert '[case 1]\nTask: won task\nPlan: {"plan": ["a"]}\nAnswer: yes' in text
    assert text.endswith("[case 2]\nTask: lost task\nPlan: b")  # no answer, no answer line
    assert cases_text(None) == "" and cases_text(_found()) == ""

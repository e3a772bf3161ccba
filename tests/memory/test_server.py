"""memento-memory through real MCP sessions over stdio and streamable HTTP."""

from __future__ import annotations

import json

import anyio
import pytest

from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio


async def test_cases_are_written_retrieved_updated_listed_and_deleted_over_mcp(transport, tmp_path):
    args = ["--db", str(tmp_path / "bank"), "--model", "feature-hash"]
    with anyio.fail_after(120):
        async with connect("memory", transport, args=args) as client:
            call = client.call_tool
            assert payload(await call("memory_stats", {}))["cases"] == 0
            assert payload(await call("retrieve_cases", {"task": "anything"}))["positive"] == []

            written = payload(await call("write_case", {
                "task": "What is the capital of France?", "plan": {"plan": [{"id": 1, "description": "look it up"}]},
                "answer": "Paris", "reward": 1.0, "tags": ["geo"], "source": "test", "case_id": "france",
            }))
            assert written["created"] == ["france"] and written["cases"][0]["outcome"] == "success"
            await call("write_case", {"task": "What is the capital of Spain?", "reward": 0.0, "case_id": "spain"})
            await call("write_case", {"task": "Who painted the Mona Lisa?", "reward": 1.0, "tags": ["art"]})

            found = payload(await call("retrieve_cases", {"task": "What is the capital of Italy?", "k": 2}))
            assert [c["id"] for c in found["positive"]] == ["france"]
            assert [c["id"] for c in found["negative"]] == ["spain"]
            assert found["positive"][0]["plan"]["plan"][0]["description"] == "look it up"

            outcome = payload(await call("write_case", {
                "task": "What is the capital of Italy?", "reward": 1.0, "answer": None,
                "retrieved_case_ids": ["france", "spain"], "run_id": "run-1",
            }))
            assert outcome["transitions"] == 2
            retried = payload(await call("write_case", {"task": "What is the capital of France?", "reward": 0.0, "case_id": "france"}))
            assert retried["created"] == [] and retried["cases"][0]["reward"] == 1.0

            same = payload(await call("retrieve_cases", {"task": "What is the capital of France?", "k": 4, "exclude_same_task": True}))
            assert "france" not in [c["id"] for c in same["positive"] + same["negative"]]
            tagged = payload(await call("retrieve_cases", {"task": "capital", "tags": ["art"], "k": 4}))
            assert [c["task"] for c in tagged["positive"]] == ["Who painted the Mona Lisa?"]

            updated = payload(await call("update_case", {"case_id": "spain", "reward": 0.9}))
            assert updated["reward"] == pytest.approx(0.9) and updated["outcome"] == "success"
            await call("update_case", {"case_id": "spain", "trust": "quarantined"})
            found = payload(await call("retrieve_cases", {"task": "What is the capital of Spain?", "k": 4}))
            assert "spain" not in [c["id"] for c in found["positive"] + found["negative"]]
            quarantined = payload(await call("list_cases", {"trust": "quarantined"}))
            assert [c["id"] for c in quarantined["cases"]] == ["spain"]

            first = payload(await call("list_cases", {"limit": 3}))
            assert first["total"] == 4 and len(first["cases"]) == 3 and first["next_offset"] == 3
            rest = payload(await call("list_cases", {"limit": 3, "offset": 3}))
            assert len(rest["cases"]) == 1 and rest["next_offset"] is None

            assert payload(await call("get_case", {"case_id": "france"}))["answer"] == "Paris"
            resource = await client.read_resource("memento://cases/france")
            assert json.loads(resource.contents[0].text)["task"] == "What is the capital of France?"

            assert payload(await call("delete_case", {"case_id": "france"}))["deleted"] is True
            assert payload(await call("delete_case", {"case_id": "france"}))["deleted"] is False
            stats = payload(await call("memory_stats", {}))
            assert (stats["cases"], stats["quarantined"], stats["scorer"]["transitions"]) == (3, 1, 2)


async def test_mistakes_come_back_as_actionable_tool_errors(transport, tmp_path):
    args = ["--db", str(tmp_path / "bank"), "--model", "feature-hash", "--max-task-chars", "100"]
    with anyio.fail_after(120):
        async with connect("memory", transport, args=args) as client:
            call = client.call_tool
            assert "over the limit of 100" in error_text(await call("write_case", {"task": "x" * 101, "reward": 1}))
            assert "over the limit of 100" in error_text(await call("retrieve_cases", {"task": "x" * 101}))
            assert "list_cases" in error_text(await call("get_case", {"case_id": "missing"}))
            assert "nothing to update" in error_text(await call("update_case", {"case_id": "missing"}))
            assert "invalid case id" in error_text(await call("delete_case", {"case_id": "a b"}))
            assert "k must be between" in error_text(await call("retrieve_cases", {"task": "t", "k": 999}))


async def test_case_provenance_returns_the_tasks_that_retrieved_a_case_newest_first(tmp_path):
    args = ["--db", str(tmp_path / "bank"), "--model", "feature-hash"]
    with anyio.fail_after(120):
        async with connect("memory", "stdio", args=args) as client:
            call = client.call_tool
            await call("write_case", {"task": "What is the capital of France?", "reward": 1.0, "case_id": "france"})
            await call("write_case", {"task": "What is the capital of Spain?", "reward": 0.0, "case_id": "spain"})
            assert payload(await call("case_provenance", {"case_id": "france"})) == {"case_id": "france", "total": 0, "uses": []}
            for n, (task, reward) in enumerate([("Capital of Italy?", 1.0), ("Capital of Peru?", 0.0), ("Capital of Chad?", 0.5)]):
                await call("write_case", {
                    "task": task, "reward": reward, "case_id": f"task-{n}", "run_id": f"run-{n}",
                    "retrieved_case_ids": ["france", "spain"] if n != 1 else ["france"],
                })  # fmt: skip
            found = payload(await call("case_provenance", {"case_id": "spain"}))
            assert found["total"] == 2
            assert [(u["task"], u["reward"], u["run_id"], u["from_case"]) for u in found["uses"]] == [
                ("Capital of Chad?", 0.5, "run-2", "task-2"), ("Capital of Italy?", 1.0, "run-0", "task-0"),
            ]  # fmt: skip
            latest = payload(await call("case_provenance", {"case_id": "france", "limit": 2}))
            assert latest["total"] == 3 and [u["task"] for u in latest["uses"]] == ["Capital of Chad?", "Capital of Peru?"]
            assert latest["uses"][0]["created_at"] >= latest["uses"][1]["created_at"]

            await call("update_case", {"case_id": "task-1", "reward": 1.0})  # a corrected verdict relabels the task's transitions
            relabelled = payload(await call("case_provenance", {"case_id": "france"}))["uses"]
            assert [u["reward"] for u in relabelled] == [0.5, 1.0, 1.0]
            await call("delete_case", {"case_id": "france"})
            assert payload(await call("case_provenance", {"case_id": "france"}))["total"] == 3  # history outlives the case
            assert "invalid case id" in error_text(await call("case_provenance", {"case_id": "x' OR '1'='1"}))
            assert "limit" in error_text(await call("case_provenance", {"case_id": "spain", "limit": 0}))

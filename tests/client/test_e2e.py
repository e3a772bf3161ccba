"""The agent over the project's real MCP servers (stdio, as `memento ask` starts them) with the fake model."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from memento_client.llm import LLM
from memento_client.loop.agent import Agent
from memento_client.mcp.config import parse_mcp_config
from memento_client.mcp.host import Host
from tests.client.conftest import make_config
from tests.client.scripted import answer_json, plan_json
from tests.fakes.openai_server import text_reply, tool_call_reply

pytestmark = pytest.mark.anyio

NOTES = """# Expedition notes

The observatory on the ridge was founded in 1879 by Ada Lindqvist.
It stayed in use for 76 years before the new telescope opened.
"""


def servers(**entries: dict) -> list:
    return parse_mcp_config({"mcpServers": entries})


async def test_a_multi_hop_answer_from_documents_and_code_becomes_a_case_the_next_task_plans_with(fake_openai, tmp_path):
    (tmp_path / "notes.md").write_text(NOTES)
    entries = servers(
        documents={"command": "memento-documents", "args": ["--root", str(tmp_path)]},
        code={"command": "memento-code", "args": []},
        memory={"command": "memento-memory", "args": []},
    )
    question = "In which year did the observatory in my notes close?"
    fake_openai.enqueue(
        text_reply(plan_json("Read notes.md: when was the observatory founded and how long was it used?", "Add the years")),
        tool_call_reply(("documents__read_document", {"source": "notes.md"})),
        text_reply("Founded 1879, used for 76 years (notes.md)."),
        tool_call_reply(("code__run_python", {"code": "1879 + 76"})),
        text_reply("1879 + 76 = 1955"),
        text_reply(answer_json("1955")),
        text_reply(answer_json("1955")),  # the second task answers at once, from the case
    )
    config = make_config(fake_openai, memory="similarity", cases_k=4)
    llm = LLM(config)
    with anyio.fail_after(170):
        async with Host(entries) as host:
            agent = Agent(llm, host, config, run_id="e2e-run")
            assert {"documents__read_document", "code__run_python"} <= {t.qualified for t in agent.tools}
            assert not any(t.server == "memory" or t.name == "server_info" for t in agent.tools)  # the loop's, not the model's
            first = await agent.run(question, gold=["1955"])
            second = await agent.run("When did the observatory from my notes shut down?")
    await llm.aclose()

    assert (first.answer, first.metrics, first.reward) == ("1955", {"em": 1.0, "f1": 1.0}, 1.0) and first.case_id
    read, computed = (m for r in fake_openai.chat_requests[:6] for m in r.messages if m["role"] == "tool")
    assert "founded in 1879 by Ada Lindqvist" in json.loads(read["content"])["markdown"]
    assert "1955" in computed["content"]
    tools = [e for e in first.events if e["kind"] == "tool"]
    assert [(t["name"], t["ok"]) for t in tools] == [("documents__read_document", True), ("code__run_python", True)]

    assert second.retrieved_case_ids == [first.case_id]
    prompt = fake_openai.chat_requests[-1].text()
    assert "Successful cases" in prompt and f"[case {first.case_id}]" in prompt
    assert "Add the years" in prompt and "Answer: 1955" in prompt
    assert second.case_id is None  # no gold and no judge: no reward, so nothing is written


def test_ask_with_a_corpus_indexes_it_and_answers_a_two_hop_question_by_searching_it(fake_openai, tmp_path, monkeypatch, capsys):
    from memento_client.cli import run

    corpus = Path(__file__).resolve().parents[1] / "data" / "client" / "corpus"
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"search": {"command": "memento-search", "args": []}}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEMENTO_SEARCH_BACKENDS", "local")  # never the internet in tests
    monkeypatch.setenv("MEMENTO_SEARCH_LOCAL_MODE", "fts")  # BM25 is enough here, and loads no embedder
    question = "In which town was the director of The Glass Orchard born?"
    fake_openai.enqueue(
        text_reply(plan_json("Find who directed The Glass Orchard", "Find where that director was born")),
        tool_call_reply(("search__search", {"query": "The Glass Orchard film director", "max_results": 3})),
        text_reply("Directed by Maren Holloway."),
        tool_call_reply(("search__search", {"query": "Maren Holloway born", "max_results": 3})),
        text_reply("Maren Holloway was born in Port Ellery."),
        text_reply(answer_json("Port Ellery")),
    )
    flags = ["--json", "--corpus", str(corpus), "--base-url", fake_openai.url, "--model", "fake-model", "--memory", "off"]
    assert run(["ask", question, *flags]) == 0
    printed = capsys.readouterr()
    result = json.loads(printed.out)
    assert result["answer"] == "Port Ellery"
    # the indexing is one summary line: no raw logs, progress bars or JSON report from the indexer
    assert f"memento: indexed {corpus}: " in printed.err and "INFO" not in printed.err and '"files_seen"' not in printed.err
    assert f"The user's documents in {corpus}" in fake_openai.chat_requests[0].text()
    hits = [m["content"] for r in fake_openai.chat_requests for m in r.messages if m["role"] == "tool"]
    assert "directed by Maren Holloway" in hits[0] and "born 1941 in Port Ellery" in hits[-1]

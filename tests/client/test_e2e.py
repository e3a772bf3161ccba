"""The agent over the project's real MCP servers (stdio, as `memento ask` starts them) with the fake model."""

from __future__ import annotations

import json

import anyio
import pytest

from memento_client.agent import Agent
from memento_client.host import Host
from memento_client.llm import LLM
from memento_client.mcpconfig import parse_mcp_config
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


async def test_a_document_read_and_a_computation_answer_a_multi_hop_question(fake_openai, tmp_path):
    (tmp_path / "notes.md").write_text(NOTES)
    entries = servers(
        documents={"command": "memento-documents", "args": ["--root", str(tmp_path)]},
        code={"command": "memento-code", "args": []},
    )
    question = "In which year did the observatory in my notes close?"
    fake_openai.enqueue(
        text_reply(plan_json("Read notes.md: when was the observatory founded and how long was it used?", "Add the years")),
        tool_call_reply(("documents__read_document", {"source": "notes.md"})),
        text_reply("Founded 1879, used for 76 years (notes.md)."),
        tool_call_reply(("code__run_python", {"code": "1879 + 76"})),
        text_reply("1879 + 76 = 1955"),
        text_reply(answer_json("1955")),
    )
    config = make_config(fake_openai, memory="off")
    llm = LLM(config)
    with anyio.fail_after(150):
        async with Host(entries) as host:
            assert {"documents__read_document", "code__run_python"} <= set(host.tools)
            assert not any(name.endswith("__server_info") for name in host.tools)
            result = await Agent(llm, host, config).run(question, gold=["1955"])
    await llm.aclose()
    assert (result.answer, result.metrics) == ("1955", {"em": 1.0, "f1": 1.0})
    read, computed = (m for r in fake_openai.chat_requests for m in r.messages if m["role"] == "tool")
    assert "founded in 1879 by Ada Lindqvist" in json.loads(read["content"])["markdown"]
    assert "1955" in computed["content"]
    tools = [e for e in result.events if e["kind"] == "tool"]
    assert [(t["name"], t["ok"]) for t in tools] == [("documents__read_document", True), ("code__run_python", True)]

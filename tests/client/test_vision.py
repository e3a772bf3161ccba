"""Tool images reach a vision model: the real documents server (stdio) renders a PDF page, the executor
shows it to the fake model as an `image_url` part in the next request only, or notes it when vision is off."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import anyio
import pymupdf
import pytest

from memento_client.llm import LLM
from memento_client.loop.agent import Agent
from memento_client.loop.context import IMAGE_CHARS, trim_messages
from memento_client.mcp.config import ServerEntry
from memento_client.mcp.host import Host
from tests.client.conftest import REPO, make_config
from tests.client.scripted import answer_json, plan_json
from tests.documents import samples
from tests.fakes.openai_server import text_reply, tool_call_reply

pytestmark = pytest.mark.anyio

RENDER = ("documents__render_page", {"source": "report.pdf", "page": 2, "dpi": 50})


def documents_entry(root: Path) -> ServerEntry:
    args = ("-m", "memento_servers.documents", "--root", str(root), "--no-cache", "--workers", "1")
    return ServerEntry(name="documents", command=sys.executable, args=args, cwd=str(REPO))


async def _run(fake, host, **overrides):
    config = make_config(fake, memory="off", **overrides)
    llm = LLM(config)
    try:
        return await Agent(llm, host, config).run("What does page 2 of report.pdf show?")
    finally:
        await llm.aclose()


async def test_a_rendered_page_is_shown_to_a_vision_model_once_and_noted_otherwise(fake_openai, tmp_path: Path):
    (tmp_path / "report.pdf").write_bytes(samples.report_pdf(3))
    with anyio.fail_after(120):
        async with Host([documents_entry(tmp_path)]) as host:
            # vision on: the image comes in the request after the tool call, and not in the one after that
            fake_openai.enqueue(
                text_reply(plan_json("look at page 2")),
                tool_call_reply(RENDER),
                tool_call_reply(("documents__document_info", {"source": "report.pdf"})),
                text_reply("page 2 shows Chapter 2"),
                text_reply(answer_json("Chapter 2")),
            )
            result = await _run(fake_openai, host, vision=True)
            assert result.answer == "Chapter 2"
            planner, first, seen, after, final = fake_openai.chat_requests
            assert first.image_urls() == [] and planner.image_urls() == []
            [uri] = seen.image_urls()
            assert uri.startswith("data:image/png;base64,")
            pixmap = pymupdf.Pixmap(base64.b64decode(uri.split(",", 1)[1]))
            assert (pixmap.width, pixmap.height) == (414, 585)  # A4 at 50 dpi
            tool_reply = next(m for m in seen.messages if m["role"] == "tool")
            assert json.loads(tool_reply["content"].split("\n[")[0])["page_count"] == 3 and "shown in the next message" in tool_reply["content"]
            assert seen.messages[-1]["role"] == "user" and "returned by documents__render_page" in seen.text()
            assert after.image_urls() == [] and final.image_urls() == []
            assert "shown to you here once" in after.text()

            # vision off: no image part anywhere, the tool reply says why
            fake_openai.requests.clear()
            fake_openai.enqueue(
                text_reply(plan_json("look at page 2")),
                tool_call_reply(RENDER),
                text_reply("cannot see it"),
                text_reply(answer_json("unknown")),
            )
            await _run(fake_openai, host, vision=False)
            assert all(request.image_urls() == [] for request in fake_openai.chat_requests)
            tool_reply = next(m for m in fake_openai.chat_requests[2].messages if m["role"] == "tool")
            assert '"page_count":3' in tool_reply["content"] and "not shown: the model takes no image input" in tool_reply["content"]


def test_an_image_counts_a_fixed_size_against_the_context_budget_not_its_data_uri():
    image = {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 500_000}}]}
    earlier = [{"role": "assistant", "content": "x" * 1000}, {"role": "user", "content": "y" * 1000}]
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"}, *earlier, image]
    assert trim_messages(messages, 2000 + IMAGE_CHARS + 100) == messages  # a 500 kB data URI does not push the rest out
    assert trim_messages(messages, IMAGE_CHARS + 1100)[3:] == [earlier[1], image]

"""The planner-executor loop with the fake model over a real MCP server (the toy server, stdio).

Each test starts the server once and runs several scripted scenarios through it.
"""

from __future__ import annotations

import json

import anyio
import pytest

from memento_client.llm import LLM
from memento_client.loop.agent import Agent
from memento_client.mcp.host import Host
from tests.client.conftest import make_config, toy_entry
from tests.client.scripted import answer_json, plan_json
from tests.client.test_host import alive
from tests.fakes.openai_server import error_reply, text_reply, tool_call_reply

pytestmark = pytest.mark.anyio


async def _run(fake, host, task="What is 2+3?", gold=None, **overrides):
    config = make_config(fake, memory="off", **overrides)
    llm = LLM(config)
    try:
        return await Agent(llm, host, config).run(task, gold=gold)
    finally:
        await llm.aclose()


def _tool_messages(request):
    return [m for m in request.messages if m["role"] == "tool"]


async def test_plan_execute_answer_with_parallel_calls_tool_errors_and_repair(fake_openai):
    with anyio.fail_after(120):
        async with Host([toy_entry()]) as host:
            # a two-subtask plan; parallel calls (one fails); results reported; a final answer scored against gold
            fake_openai.enqueue(
                text_reply(plan_json("add the numbers", "say hello")),
                tool_call_reply(("toy__add", {"a": 2, "b": 3}), ("toy__fail", {"reason": "nope"})),
                text_reply("2+3 = 5"),
                tool_call_reply(("toy__echo", '{"text": "hello"')),  # malformed arguments
                tool_call_reply(("toy__echo", {"text": "hello"})),
                text_reply("said hello"),
                text_reply(answer_json("5")),
            )
            result = await _run(fake_openai, host, gold=["5", "five"])
            assert (result.answer, result.stop_reason, result.metrics, result.reward) == ("5", "answered", {"em": 1.0, "f1": 1.0}, 1.0)
            assert result.plan == ["add the numbers", "say hello"]
            requests = fake_openai.chat_requests
            tools = _tool_messages(requests[2])
            assert json.loads(tools[0]["content"]) == {"value": 5.0}
            assert tools[1]["content"].startswith("ERROR:") and "failed on purpose: nope" in tools[1]["content"]
            assert "arguments are not valid JSON" in _tool_messages(requests[4])[0]["content"]
            assert "Results of cycle 1" in requests[6].messages[-1]["content"] and "2+3 = 5" in requests[6].messages[-1]["content"]
            assert "toy__add" in requests[0].messages[0]["content"]  # the planner is told which tools exist
            assert requests[0].body["response_format"]["type"] == "json_schema"
            tool_events = [e["name"] for e in result.events if e["kind"] == "tool"]
            assert set(tool_events[:2]) == {"toy__add", "toy__fail"}  # run in parallel: either may finish first
            assert result.usage["calls"] == 7 and fake_openai.pending == 0

            # a malformed plan gets one repair request, then the loop goes on
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply("I think we should add them"), text_reply(answer_json("5")))
            assert (await _run(fake_openai, host)).answer == "5"
            assert "not valid: no JSON object" in fake_openai.chat_requests[1].messages[-1]["content"]

            # two bad replies in a row end the task without an answer
            fake_openai.enqueue(text_reply("nope"), text_reply('{"plan": 3}'))
            failed = await _run(fake_openai, host, gold=["5"])
            assert (failed.answer, failed.stop_reason, failed.metrics) == (None, "invalid_plan", {"em": 0.0, "f1": 0.0})

            # the last cycle must answer: a plan there is sent back for repair
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply(plan_json("more work")), text_reply(answer_json("7")))
            assert (await _run(fake_openai, host, max_cycles=1)).answer == "7"
            assert "last cycle" in fake_openai.chat_requests[1].messages[-1]["content"]

            # a small model answering in prose on the last cycle: its answer is kept (no repair, no failure)
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply(plan_json("add them")), text_reply("5"), text_reply("The sum of 2 and 3 is 5."))
            prose = await _run(fake_openai, host, gold=["5"], max_cycles=2)
            assert (prose.answer, prose.stop_reason) == ("The sum of 2 and 3 is 5.", "answered") and prose.metrics["f1"] > 0
            assert len(fake_openai.chat_requests) == 3 and fake_openai.pending == 0

            # a long tool output is cut to the budget, with a note saying how to get the rest
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply(plan_json("echo a lot")), tool_call_reply(("toy__echo", {"text": "x" * 5000})))
            fake_openai.enqueue(text_reply("long"), text_reply(answer_json("long")))
            await _run(fake_openai, host, tool_output_chars=300)
            [cut] = _tool_messages(fake_openai.chat_requests[2])
            assert cut["content"].startswith('{\n  "text": "xxx') and len(cut["content"]) < 420
            assert "more characters cut; ask for a narrower range or the next page" in cut["content"]

            # 429 then success, inside the loop
            fake_openai.enqueue(error_reply(429, retry_after=0.01), text_reply(answer_json("5")))
            assert (await _run(fake_openai, host)).answer == "5"


async def test_step_cap_stuck_loop_and_budgets(fake_openai):
    with anyio.fail_after(120):
        async with Host([toy_entry()]) as host:
            # a model that never stops calling tools: capped, then asked once, without tools, for its result
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply(plan_json("count")))
            fake_openai.enqueue(*[tool_call_reply(("toy__add", {"a": n, "b": 1})) for n in range(3)])
            fake_openai.enqueue(tool_call_reply(("toy__add", {"a": 9, "b": 9})), text_reply(answer_json("gave up")))
            result = await _run(fake_openai, host, max_steps_per_subtask=3)
            end = next(e for e in result.events if e["kind"] == "subtask" and e["phase"] == "end")
            assert (end["stop"], end["steps"], end["result"]) == ("step_cap", 4, "(no result: the step limit is reached)")
            forced = fake_openai.chat_requests[4].body
            assert "tools" not in forced and "Stop calling tools" in forced["messages"][-1]["content"]
            assert result.answer == "gave up"

            # the same call again and again: the stuck-loop detector ends the subtask
            fake_openai.enqueue(text_reply(plan_json("loop")))
            fake_openai.enqueue(*[tool_call_reply(("toy__echo", {"text": "same"})) for _ in range(3)])
            fake_openai.enqueue(text_reply("echo says same"), text_reply(answer_json("same")))
            result = await _run(fake_openai, host, stuck_repeats=3, max_steps_per_subtask=10)
            end = next(e for e in result.events if e["kind"] == "subtask" and e["phase"] == "end")
            assert (end["stop"], end["result"], result.answer) == ("stuck", "echo says same", "same")

            # a step budget: work stops, one closing call answers from the results so far
            fake_openai.requests.clear()
            fake_openai.enqueue(text_reply(plan_json("a", "b")), tool_call_reply(("toy__add", {"a": 1, "b": 1})))
            fake_openai.enqueue(text_reply("1+1 = 2"), text_reply(answer_json("2")))
            result = await _run(fake_openai, host, max_steps=3)
            assert (result.answer, result.stop_reason) == ("2", "budget:steps")
            closing = fake_openai.chat_requests[-1].messages[-1]["content"]
            assert "1+1 = 2" in closing and "budget is spent" in closing

            # a wall-time budget cuts a slow tool call short
            fake_openai.enqueue(text_reply(plan_json("wait")), tool_call_reply(("toy__slow", {"seconds": 30})))
            fake_openai.enqueue(text_reply(answer_json("late")))
            result = await _run(fake_openai, host, max_wall_s=2)
            assert (result.answer, result.stop_reason) == ("late", "budget:wall_time")
            assert any(e["kind"] == "budget" and e["budget"] == "wall_time" for e in result.events)

            # a token budget
            fake_openai.enqueue(text_reply(plan_json("x"), usage={"prompt_tokens": 5000, "completion_tokens": 10, "total_tokens": 5010}))
            fake_openai.enqueue(text_reply(answer_json("cheap")))
            result = await _run(fake_openai, host, max_tokens=1000)
            assert (result.answer, result.stop_reason) == ("cheap", "budget:tokens")


async def test_a_server_that_crashes_mid_task_is_restarted_once_per_call(fake_openai):
    with anyio.fail_after(120):
        async with Host([toy_entry()]) as host:
            first_pid = (await host.call("toy__echo", {"text": "before"})).structured["pid"]
            fake_openai.enqueue(
                text_reply(plan_json("crash it, then echo")),
                tool_call_reply(("toy__crash", {})),
                tool_call_reply(("toy__echo", {"text": "still here"})),
                text_reply("the server came back"),
                text_reply(answer_json("back")),
            )
            result = await _run(fake_openai, host)
            tools = [e for e in result.events if e["kind"] == "tool"]
            # the crashing call is retried once on a fresh server, which it crashes too: reported to the model
            assert [(t["name"], t["ok"], t["restarted"]) for t in tools] == [("toy__crash", False, True), ("toy__echo", True, True)]
            assert "Connection closed" in _tool_messages(fake_openai.chat_requests[2])[0]["content"]
            assert result.answer == "back" and host.restarts["toy"] == 2
            echoed = json.loads(_tool_messages(fake_openai.chat_requests[3])[-1]["content"])
            assert echoed["text"] == "still here" and echoed["pid"] != first_pid and not alive(first_pid)

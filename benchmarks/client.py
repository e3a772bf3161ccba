"""Agent-loop overhead and `memento eval` throughput, with a fake model so only the client is measured.

    python -m benchmarks.client [--quick]

The fake OpenAI server runs in its own process (so it does not share the GIL with the client)
and answers each request instantly, or after a simulated model latency. Every task is the same
3-subtask plan with two parallel tool calls per subtask (6 MCP calls to a real stdio server),
i.e. 8 model calls. Figures: time per task and the part of it not spent waiting for the model;
eval tasks/s at concurrency 1 and 8 (instant model, and with a simulated model latency, which
is where concurrency pays). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]


def _script(latency: float):
    from tests.client.scripted import answer_json, plan_json, role_of
    from tests.fakes.openai_server import text_reply, tool_call_reply

    def respond(request):
        role = role_of(request)
        if role == "planner":
            reported = any("Results of cycle" in str(m.get("content")) for m in request.messages)
            reply = text_reply(answer_json("done") if reported else plan_json("first part", "second part", "third part"))
        elif any(m.get("role") == "tool" for m in request.messages):
            reply = text_reply("found it")
        else:
            reply = tool_call_reply(("toy__echo", {"text": "a"}), ("toy__add", {"a": 1, "b": 2}))
        reply.delay = latency
        return reply

    return respond


def serve_fake(latency: float) -> None:
    """Child process: serve the scripted fake model until stdin closes."""
    from tests.fakes.openai_server import FakeOpenAI, serve

    fake = FakeOpenAI()
    fake.responder = _script(latency)
    stop = serve(fake)
    print(fake.url, flush=True)
    sys.stdin.read()
    stop()


class FakeProcess:
    def __init__(self, latency: float):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.client", "--serve-fake", "--latency", str(latency)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(10)


def _config(url: str, **overrides):
    from memento_client.config import ClientConfig

    return ClientConfig(model="fake-model", base_url=url, api_key="bench", memory="off", max_steps=100, **overrides)


def _entries():
    from memento_client.mcp.config import ServerEntry

    return [ServerEntry("toy", command=sys.executable, args=("-m", "tests.client.toy_server"), cwd=str(ROOT))]


async def per_task(url: str, runs: int) -> dict:
    from memento_client.llm import LLM
    from memento_client.loop.agent import Agent
    from memento_client.mcp.host import Host

    config = _config(url)
    llm = LLM(config)
    model_time = 0.0
    complete = llm.complete

    async def timed(*args, **kwargs):
        nonlocal model_time
        started = time.perf_counter()
        try:
            return await complete(*args, **kwargs)
        finally:
            model_time += time.perf_counter() - started

    llm.complete = timed  # type: ignore[method-assign]
    async with Host(_entries()) as host:
        agent = Agent(llm, host, config)
        await agent.run("warm-up task")
        totals, outside = [], []
        for n in range(runs):
            model_time = 0.0
            started = time.perf_counter()
            result = await agent.run(f"benchmark task {n}")
            totals.append(time.perf_counter() - started)
            outside.append(totals[-1] - model_time)
            tools = sum(1 for e in result.events if e["kind"] == "tool")
    await llm.aclose()
    return {
        "task_ms_p50": round(statistics.median(totals) * 1000, 1),
        "task_ms_outside_model_calls_p50": round(statistics.median(outside) * 1000, 1),
        "model_calls_per_task": result.usage["calls"],
        "tool_calls_per_task": tools,
    }


async def eval_rate(url: str, tasks: int, concurrency: int) -> float:
    from memento_client.eval.datasets import Item
    from memento_client.eval.runner import EvalPlan, run_iteration
    from memento_client.session import agent_session

    items = [Item(f"t{n}", f"question {n}", ["done"], "bench") for n in range(tasks)]
    with tempfile.TemporaryDirectory() as folder:
        plan = EvalPlan(items, 1, concurrency, Path(folder), {})
        async with agent_session(_config(url), entries=_entries()) as agent:
            await agent.run("warm-up task")
            started = time.perf_counter()
            await run_iteration(agent, plan, 1)
            return tasks / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=0.0, help="Simulated model latency per call (s), for the second eval run.")
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake(args.latency)
        return
    runs, tasks = (5, 16) if args.quick else (20, 48)
    latency = args.latency or 0.2
    figures: dict = {"quick": args.quick, "eval_tasks": tasks}
    instant = FakeProcess(0.0)
    try:
        print("per-task overhead...", file=sys.stderr)
        figures.update(anyio.run(per_task, instant.url, runs))
        for c in (1, 8):
            print(f"eval, instant model, concurrency {c}...", file=sys.stderr)
            figures[f"eval_tasks_per_s_c{c}"] = round(anyio.run(eval_rate, instant.url, tasks, c), 2)
    finally:
        instant.close()
    slow = FakeProcess(latency)
    try:
        for c in (1, 8):
            print(f"eval, {latency}s model latency, concurrency {c}...", file=sys.stderr)
            figures[f"eval_tasks_per_s_c{c}_latency"] = round(anyio.run(eval_rate, slow.url, tasks, c), 2)
    finally:
        slow.close()
    figures["model_latency_s"] = latency
    figures["speedup_c8_vs_c1_instant"] = round(figures["eval_tasks_per_s_c8"] / figures["eval_tasks_per_s_c1"], 2)
    figures["speedup_c8_vs_c1_latency"] = round(figures["eval_tasks_per_s_c8_latency"] / figures["eval_tasks_per_s_c1_latency"], 2)
    figures["target_speedup"] = 5.0
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

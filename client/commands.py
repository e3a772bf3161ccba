"""The async bodies of `memento ask` and `memento eval`: a run folder, the agent session, the results."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memento_client.config import ClientConfig
from memento_client.eval.datasets import Item, load_dataset
from memento_client.eval.report import write_report
from memento_client.eval.runfiles import CONFIG, write_json, write_tasks
from memento_client.eval.runner import EvalPlan, ResultWriter, result_row, run_eval, task_record
from memento_client.eval.runs import new_run_dir
from memento_client.loop.agent import AgentResult
from memento_client.mcp.config import ServerEntry, mcp_config_file
from memento_client.session import agent_session
from memento_client.view import LiveView


def run_record(config: ClientConfig, **extra: Any) -> dict[str, Any]:
    """What a run folder's config.json records: the options, the models (never secrets), and the MCP
    config file used (null: the embedded default), which `memento rate` reaches the run's case bank by."""
    models = {role: config.model_for(role) for role in ("planner", "executor", "judge")}
    settings = config.model_dump(mode="json", exclude={"api_key"})
    policy = {"memory": config.memory, "cases_temperature": config.cases_temperature}
    mcp_file = mcp_config_file(config.mcp_config)
    servers = {"mcp_config": str(mcp_file.resolve()) if mcp_file else None}
    return {**extra, **policy, **servers, "models": models, "client": settings, "created": time.time()}


async def ask(
    config: ClientConfig, entries: list[ServerEntry], question: str, notes: Sequence[str], live: bool, gold: Sequence[str] = ()
) -> tuple[Path, AgentResult]:
    """Answer `question` in a new run folder (returned with the result); `gold` answers score it."""
    folder = new_run_dir("ask")
    folder.mkdir(parents=True)
    write_json(folder / CONFIG, run_record(config, kind="ask", question=question, gold=list(gold)))
    item = Item("1", question, list(gold), "ask")
    write_tasks(folder, [task_record(item)])
    view = LiveView(spinner=True) if live else None
    logs = folder / "logs"  # the servers' stderr: never in the live view, the JSON output or a quiet run
    try:
        async with agent_session(config, entries=entries, listeners=[view] if view else [], run_id=folder.name, log_dir=logs) as agent:
            result = await agent.run(question, gold=item.answers or None, notes=notes, task_id=item.id)
    finally:
        if view is not None:
            view.close()
    writer = ResultWriter(folder / "iter-1")
    await writer.write(result_row(item, 1, result), result.events)
    writer.close()
    return folder, result


def _progress(iteration: int, done: int, row: dict[str, Any]) -> None:
    status = "error" if row.get("error") else f"EM {row.get('em', 0):.0f} F1 {row.get('f1', 0):.2f}"
    question = " ".join(str(row.get("question", "")).split())[:60]
    print(f"[iter {iteration}] {done} done · {question} -> {str(row.get('answer'))[:40]} ({status})", file=sys.stderr)


async def evaluate(config: ClientConfig, args: argparse.Namespace) -> dict[str, Any]:
    items = load_dataset(args.dataset, limit=args.limit, seed=args.seed)
    out: Path = args.out or new_run_dir("eval")
    record = run_record(
        config,
        kind="eval",
        dataset=str(args.dataset.resolve()),
        limit=args.limit,
        seed=args.seed,
        concurrency=args.concurrency,
        same_task_cases="allowed" if args.allow_same_task else "excluded",
    )
    plan = EvalPlan(items, args.iterations, max(1, args.concurrency), out, record)
    if not args.quiet:
        print(
            f"memento eval: {len(items)} questions x {args.iterations} iteration(s), memory {config.memory}, "
            f"run folder {out}; starting the MCP servers...",
            file=sys.stderr,
            flush=True,
        )
    async with agent_session(config, run_id=out.name, log_dir=out / "logs") as agent:
        await run_eval(agent, plan, None if args.quiet else _progress)
    return {"out": str(out), **write_report(out, args.baseline)}

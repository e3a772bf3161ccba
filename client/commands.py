"""The async bodies of `memento ask` and `memento eval`: a run folder, the agent session, the results."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from memento_client.cli import ask_entries
from memento_client.config import ClientConfig
from memento_client.eval.datasets import load_dataset
from memento_client.eval.items import Item, stage_attachments
from memento_client.eval.presets import protocol
from memento_client.eval.report import write_report
from memento_client.eval.runfiles import CONFIG, write_json, write_tasks
from memento_client.eval.runner import EvalPlan, ResultWriter, result_row, run_eval, task_record
from memento_client.eval.runs import new_run_dir
from memento_client.loop.agent import AgentResult
from memento_client.mcp.config import ServerEntry, load_mcp_config, mcp_config_file
from memento_client.session import agent_session
from memento_client.view import LiveView
from memento_core.errors import ConfigError


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
    if row.get("error"):
        status = "error"
    else:
        status = f"ACC {row['acc']:.0f}" if "acc" in row else f"EM {row.get('em', 0):.0f} F1 {row.get('f1', 0):.2f}"
    question = " ".join(str(row.get("question", "")).split())[:60]
    print(f"[iter {iteration}] {done} done · {question} -> {str(row.get('answer'))[:40]} ({status})", file=sys.stderr)


def _without_roots(args: tuple[str, ...]) -> tuple[str, ...]:
    """Server arguments without `--root X` and `--root=X`."""
    kept, value_next = [], False
    for arg in args:
        if value_next:
            value_next = False
        elif arg == "--root":
            value_next = True
        elif not arg.startswith("--root="):
            kept.append(arg)
    return tuple(kept)


def attachment_entries(entries: list[ServerEntry], files: Sequence[Path]) -> list[ServerEntry]:
    """The servers of a run whose tasks have attachments: the documents server reads their folders only
    (the roots mcp.json gives it dropped), so none of its roots can reach the dataset's gold answers."""
    if not files:
        return entries
    own = [replace(e, args=_without_roots(e.args)) if e.name == "documents" and not e.is_http else e for e in entries]
    return ask_entries(own, files)


def _warnings(items: list[Item], config: ClientConfig, entries: list[ServerEntry]) -> list[str]:
    """What will keep tasks from being answered or scored as their authors intend, said before the run."""
    warnings = []
    if (seen := sum(1 for i in items if i.images)) and not config.vision:
        warnings.append(f"{seen} task(s) have images the model will not see: pass --vision (or vision = true) if it takes image input")
    documents = next((e for e in entries if e.name == "documents"), None)
    if (attached := sum(1 for i in items if i.files)) and (documents is None or documents.is_http):
        warnings.append(f"{attached} task(s) have attached files, but no local documents server in mcp.json can read them")
    if any(i.kind == "judge" for i in items) and config.model_for("judge") is None:
        warnings.append("this benchmark is scored by a judge model: without --judge-model it has no ACC")
    return warnings


async def evaluate(config: ClientConfig, args: argparse.Namespace) -> dict[str, Any]:
    for flag in ("iterations", "attempts"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise ConfigError(f"--{flag} must be 1 or more")
    benchmark, items = load_dataset(args.dataset, limit=args.limit, seed=args.seed, benchmark=args.benchmark)
    settings = protocol(args.preset, benchmark, config) if args.preset else {}
    if settings:
        config = config.model_copy(update={"cases_k": settings["cases_k"]})
    iterations = args.iterations or settings.get("iterations", 1)
    attempts = args.attempts or settings.get("attempts", 1)
    same_task = "allowed" if args.allow_same_task or settings.get("same_task_cases") == "allowed" else "excluded"
    out: Path = args.out or new_run_dir("eval")
    record = run_record(
        config,
        kind="eval",
        dataset=str(args.dataset.resolve()),
        benchmark=benchmark,
        limit=args.limit,
        seed=args.seed,
        concurrency=args.concurrency,
        attempts=attempts,
        vision=config.vision,
        same_task_cases=same_task,
        **({"preset": {"name": args.preset, "protocol": settings}} if settings else {}),  # the preset's; flags given win
    )
    items = stage_attachments(items, out / "attachments")  # the agent reads these copies, never the dataset's folder
    plan = EvalPlan(items, iterations, max(1, args.concurrency), out, record, attempts=attempts, vision=config.vision)
    entries = attachment_entries(load_mcp_config(config.mcp_config), [Path(f) for item in items for f in item.files])
    start = [] if args.quiet else [
        f"memento eval: {len(items)} questions x {iterations} iteration(s){f' x {attempts} attempts' if attempts > 1 else ''}, "
        f"memory {config.memory}, benchmark {benchmark}, run folder {out}; starting the MCP servers..."
    ]  # fmt: skip
    warnings = [f"memento eval: warning: {w}" for w in _warnings(items, config, entries)]  # even when quiet
    if start or warnings:
        print(*start, *warnings, sep="\n", file=sys.stderr, flush=True)
    progress = None if args.quiet else _progress
    if getattr(args, "ray", None) is not None:  # fan out on Ray: its own module, Ray imported only then
        from memento_client.eval.ray_fanout import run_eval_on_ray

        await run_eval_on_ray(config, entries, plan, args.ray or None, progress)
    else:
        async with agent_session(config, entries=entries, run_id=out.name, log_dir=out / "logs") as agent:
            await run_eval(agent, plan, progress)
    return {"out": str(out), **write_report(out, args.baseline)}

"""The run folders as the web UI shows them, read with the eval package's readers: a run is named only by
a folder directly under the runs root, checked before anything is opened."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from memento_client.eval import runs
from memento_client.eval.report import run_summary
from memento_client.eval.runfiles import (
    CONFIG,
    MEMORY_STATS,
    PROGRESS,
    RESULTS,
    SUMMARY,
    iteration_dirs,
    iteration_number,
    read_config,
    read_json,
    read_jsonl,
    read_tasks,
)
from memento_core.errors import ConfigError
from memento_memory.models import CaseUse

RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RUNNING_WINDOW_S = 600.0  # an unfinished run whose files changed this recently counts as running


class UnknownRun(ConfigError):
    """A run name that is not a run folder directly under the runs root."""


def run_folder(name: str) -> Path:
    """The folder of run `name`: a plain name (no path), a direct child of the runs root, holding a run."""
    root = runs.runs_root().resolve()
    if not RUN_NAME.match(name) or ".." in name:
        raise UnknownRun(f"no run {name!r}")
    folder = (root / name).resolve()  # a symlink out of the root resolves elsewhere and is refused
    if folder.parent != root or not (folder / CONFIG).is_file():
        raise UnknownRun(f"no run {name!r}")
    return folder


def results(run: Path) -> list[dict[str, Any]]:
    """Every result row of the run, all iterations (a task run twice after an interruption: its last row)."""
    latest: dict[tuple[int, str], dict[str, Any]] = {}
    for folder in iteration_dirs(run):
        for row in read_jsonl(folder / RESULTS):
            latest[(iteration_number(folder), row["id"])] = {**row, "iteration": iteration_number(folder)}
    return list(latest.values())


def _last_change(run: Path) -> float:
    files = [run / CONFIG, run / PROGRESS, *(d / RESULTS for d in iteration_dirs(run))]
    return max((f.stat().st_mtime for f in files if f.exists()), default=0.0)


def progress(run: Path) -> dict[str, Any]:
    """How far the run is: tasks done of tasks planned, its status, the questions in flight (as the eval
    records them) and the latest finished ones."""
    config = read_config(run)
    tasks = read_tasks(run) or []
    rows = results(run)
    planned = len(tasks) * int(config.get("iterations", 1) or 1)
    if (run / SUMMARY).exists() or (config.get("kind") == "ask" and rows):
        status = "finished"
    elif time.time() - _last_change(run) < RUNNING_WINDOW_S:
        status = "running"
    else:
        status = "interrupted"
    done_ids = {(r["iteration"], r["id"]) for r in rows}
    iteration = max((r["iteration"] for r in rows), default=1)
    latest = sorted(rows, key=lambda r: (r["iteration"], r.get("seconds") or 0))[-5:]
    return {
        "run": run.name,
        "status": status,
        "done": len(done_ids),
        "planned": max(planned, len(done_ids)),
        "iteration": iteration,
        "latest": [_brief(r) for r in reversed(latest)],
        "running": runs.in_flight(run) if status == "running" else [],
    }


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "iteration", "source", "question", "answer", "em", "f1", "pm", "reward", "error", "case_id", "seconds")
    return {k: row.get(k) for k in keys}


def cost(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Money, tokens and model time the rows spent."""
    usage = [r.get("usage") or {} for r in rows]
    return {
        "cost_usd": round(sum(u.get("cost_usd", 0.0) for u in usage), 6),
        "tokens": sum(u.get("prompt_tokens", 0) + u.get("completion_tokens", 0) for u in usage),
        "task_seconds": round(sum(r.get("seconds") or 0.0 for r in rows), 2),
    }


def listing() -> list[dict[str, Any]]:
    """`memento runs`' rows with each run's status, progress and cost."""
    rows = []
    for row in runs.list_runs():
        folder = runs.runs_root() / row["run"]
        config = read_config(folder)
        done = results(folder)
        rows.append({**row, **progress(folder), **cost(done), "memory": config.get("memory"), "wall_seconds": _wall(folder, config)})
    return rows[::-1]  # newest first


def _wall(run: Path, config: dict[str, Any]) -> float:
    return round(max(0.0, _last_change(run) - float(config.get("created", 0) or 0)), 1)


def detail(run: Path) -> dict[str, Any]:
    """Everything the run page shows: options, metrics per iteration and source, tasks, cost, progress."""
    config = read_config(run)
    done = results(run)
    return {
        "run": run.name,
        "config": {k: v for k, v in config.items() if k != "client"},
        "summaries": run_summary(run),
        "tasks": [_brief(r) for r in sorted(done, key=lambda r: (r["iteration"], r["id"]))],
        "progress": progress(run),
        "cost": cost(done),
        "memory_stats": read_json(run / MEMORY_STATS),
    }


def trajectory(run: Path, task: str, iteration: int | None) -> dict[str, Any]:
    """One task's trajectory (its latest iteration unless `iteration`) with its result row."""
    found = runs.trajectories(run, task)  # ConfigError for an unknown task
    if iteration is not None:
        found = [t for t in found if t["iteration"] == iteration]
    if not found:
        raise ConfigError(f"run {run.name} has no trajectory of task {task!r}" + (f" in iteration {iteration}" if iteration else ""))
    chosen = found[-1]
    row = next((r for r in results(run) if r["id"] == chosen["id"] and r["iteration"] == chosen["iteration"]), {})
    return {"run": run.name, **chosen, "result": row, "iterations": [t["iteration"] for t in runs.trajectories(run, task)]}


def compare(a: Path, b: Path) -> dict[str, Any]:
    """Two runs task by task, each at its last iteration."""

    def last(run: Path) -> dict[str, dict[str, Any]]:
        rows = results(run)
        top = max((r["iteration"] for r in rows), default=0)
        return {r["id"]: _brief(r) for r in rows if r["iteration"] == top}

    left, right = last(a), last(b)
    ids = list(dict.fromkeys([*runs.task_ids(a), *runs.task_ids(b), *left, *right]))  # the question sets' order
    return {"a": a.name, "b": b.name, "tasks": [{"id": i, "a": left.get(i), "b": right.get(i)} for i in ids if i in left or i in right]}


def local_run(run_id: str) -> str | None:
    """The name of the local run folder `run_id` names, when this machine has it (a name only, never a path)."""
    try:
        return run_folder(run_id).name if run_id else None
    except UnknownRun:
        return None


def retrieved_by(uses: list[CaseUse]) -> list[dict[str, Any]]:
    """The bank's record of the tasks that retrieved a case, each linked to its local run and task (the
    result row that wrote the task's case) where this machine has them."""
    written: dict[str, dict[str, dict[str, Any]]] = {}  # run -> case written -> result row
    found = []
    for use in uses:
        row: dict[str, Any] = {"when": use.created_at, "question": use.task, "reward": use.reward, "run_id": use.run_id}
        row["run"] = local_run(use.run_id)
        if row["run"]:
            if row["run"] not in written:
                written[row["run"]] = {r["case_id"]: r for r in results(run_folder(row["run"])) if r.get("case_id")}
            local = written[row["run"]].get(use.from_case)
            if local:
                row |= {"id": local["id"], "iteration": local["iteration"], "em": local.get("em")}
        found.append(row)
    return found


def loss_history() -> list[dict[str, Any]]:
    """The learned policy's state at the end of each run that recorded it (memory_stats.json), oldest first."""
    points = []
    for row in runs.list_runs():
        stats = read_json(runs.runs_root() / row["run"] / MEMORY_STATS)
        if stats and stats.get("scorer"):
            scorer = stats["scorer"]
            points.append({"run": row["run"], "database": stats.get("database"), "steps": scorer.get("trained_steps"), "loss": scorer.get("last_loss")})
    return points

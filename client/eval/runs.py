"""Past runs under `<data dir>/runs`: `memento runs` lists them, `memento show RUN [TASK]` replays one;
a task is named by its id or its 1-based index in the run's question set."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from memento_client.eval.report import run_summary
from memento_client.eval.runfiles import (
    CONFIG,
    PROGRESS,
    RESULTS,
    TRAJECTORIES,
    iteration_dirs,
    iteration_number,
    read_config,
    read_json,
    read_jsonl,
    read_tasks,
)
from memento_core import paths
from memento_core.errors import ConfigError


def runs_root() -> Path:
    return paths.data_dir() / "runs"


def new_run_dir(kind: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = runs_root() / f"{kind}-{stamp}"
    n = 1
    while folder.exists():
        n += 1
        folder = runs_root() / f"{kind}-{stamp}-{n}"
    return folder


def find_run(name: str) -> Path:
    """A run by folder path or by name under the runs root."""
    for candidate in (Path(name), runs_root() / name):
        if (candidate / CONFIG).exists():
            return candidate
    raise ConfigError(f"no run {name!r} (see `memento runs`)")


def list_runs() -> list[dict[str, Any]]:
    rows = []
    root = runs_root()
    for folder in sorted(root.iterdir() if root.exists() else [], key=lambda p: p.stat().st_mtime):
        if not (folder / CONFIG).exists():
            continue
        config = read_config(folder)
        summaries = run_summary(folder)
        last = summaries[-1]["overall"] if summaries else {"n": 0}
        rows.append(
            {
                "run": folder.name,
                "kind": config.get("kind", "eval"),
                "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(config.get("created", 0))),
                "iterations": len(summaries),
                "tasks": last.get("n", 0),
                "acc": last.get("acc"),
                "em": last.get("em"),
                "f1": last.get("f1"),
                "what": config.get("dataset") or config.get("question", ""),
            }
        )
    return rows


def task_ids(run: Path) -> list[str]:
    """The run's question ids in order: as recorded, else as they first appear in its results (older runs)."""
    tasks = read_tasks(run)
    if tasks is not None:
        return [t["id"] for t in tasks]
    return list(dict.fromkeys(row["id"] for folder in iteration_dirs(run) for row in read_jsonl(folder / RESULTS)))


def task_id(run: Path, task: str) -> str:
    """The id of `task`, given as an id or as a 1-based index into the run's questions."""
    ids = task_ids(run)
    if task in ids:
        return task
    if task.isdigit() and 1 <= int(task) <= len(ids):
        return ids[int(task) - 1]
    raise ConfigError(f"run {run.name} has no task {task!r}: name one of its {len(ids)} by id or 1..{len(ids)} (see `memento show {run.name}`)")


def trajectories(run: Path, task: str | None = None) -> list[dict[str, Any]]:
    """Trajectories of a run (all iterations), or those of one task; a task run again after an
    interruption shows its finished attempt."""
    wanted = task_id(run, task) if task is not None else None
    found: dict[tuple[int, str, int], dict[str, Any]] = {}
    for folder in iteration_dirs(run):
        iteration = iteration_number(folder)
        for row in read_jsonl(folder / TRAJECTORIES):
            if wanted is None or row["id"] == wanted:
                found[(iteration, row["id"], row.get("attempt", 1))] = {**row, "iteration": iteration}
    return list(found.values())


def in_flight(run: Path) -> list[dict[str, Any]]:
    """The tasks an eval recorded as running (progress.json), first started first; none for runs made
    before it was recorded, or when a torn or foreign file cannot be read."""
    try:
        record = read_json(run / PROGRESS) or {}
        tasks = [{k: t[k] for k in ("id", "attempt", "question", "started")} for t in record.get("in_flight", [])]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []
    return sorted(tasks, key=lambda t: t["started"])

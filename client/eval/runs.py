"""Past runs under `<data dir>/runs`: `memento runs` lists them, `memento show RUN [TASK]` replays one."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from memento_client.eval.report import iteration_dirs, read_jsonl, summarize
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
        if (candidate / "config.json").exists():
            return candidate
    raise ConfigError(f"no run {name!r} (see `memento runs`)")


def list_runs() -> list[dict[str, Any]]:
    rows = []
    root = runs_root()
    for folder in sorted(root.iterdir() if root.exists() else [], key=lambda p: p.stat().st_mtime):
        if not (folder / "config.json").exists():
            continue
        config = json.loads((folder / "config.json").read_text())
        iterations = iteration_dirs(folder)
        last = summarize(read_jsonl(iterations[-1] / "results.jsonl"))["overall"] if iterations else {"n": 0}
        rows.append(
            {
                "run": folder.name,
                "kind": config.get("kind", "eval"),
                "created": time.strftime("%Y-%m-%d %H:%M", time.localtime(config.get("created", 0))),
                "iterations": len(iterations),
                "tasks": last.get("n", 0),
                "em": last.get("em"),
                "f1": last.get("f1"),
                "what": config.get("dataset") or config.get("question", ""),
            }
        )
    return rows


def trajectories(run: Path, task: str | None = None) -> list[dict[str, Any]]:
    """Trajectories of a run (all iterations), or those of one task id (or the task's 1-based index)."""
    found = []
    for folder in iteration_dirs(run):
        for n, row in enumerate(read_jsonl(folder / "trajectories.jsonl"), 1):
            row["iteration"] = int(folder.name.split("-")[1])
            if task is None or row["id"] == task or str(n) == task:
                found.append(row)
    if task is not None and not found:
        raise ConfigError(f"run {run.name} has no task {task!r}")
    return found

"""The files of a run folder, read and written in one place.

    config.json          the options, models and policy of the run
    tasks.jsonl          the run's questions in order (id, source, question): what the metrics count
    iter-N/results.jsonl       one scored line per finished task (the last write of a task: it marks it done)
    iter-N/trajectories.jsonl  the events of each task
    memory_stats.json    the case bank and learned policy when the run ended (memento_memory's BankStats)
    ratings.jsonl        `memento rate` verdicts: task, iteration, case_id, old_reward, new_reward, time
    progress.json        while an eval runs: its iteration, tasks started and finished, and the tasks in
                         flight (id, attempt, question, started: epoch seconds), rewritten whole as each
                         task starts and ends
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CONFIG, TASKS, MEMORY_STATS, RATINGS = "config.json", "tasks.jsonl", "memory_stats.json", "ratings.jsonl"
PROGRESS, SUMMARY = "progress.json", "summary.json"
RESULTS, TRAJECTORIES = "results.jsonl", "trajectories.jsonl"


def read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def write_json(path: Path, value: Any) -> None:
    """Written whole or not at all (a temporary file renamed over the old one)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(partial, path)


def read_config(run: Path) -> dict[str, Any]:
    return read_json(run / CONFIG) or {}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a line that is not JSON (a torn write) is skipped."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(path: Path, row: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def cut_torn_line(path: Path) -> None:
    """Truncate `path` after its last newline, dropping a line an interrupted write left unfinished."""
    if not path.exists():
        return
    with path.open("rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        keep = end
        while keep > 0:
            start = max(0, keep - 65536)
            handle.seek(start)
            block = handle.read(keep - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        if keep < end:
            handle.truncate(keep)


def iteration_number(folder: Path) -> int:
    return int(folder.name.split("-")[1])


def iteration_dirs(run: Path) -> list[Path]:
    return sorted((p for p in run.glob("iter-*") if p.is_dir()), key=iteration_number)


def write_tasks(run: Path, tasks: Iterable[dict[str, Any]]) -> None:
    """Record the run's question set (id, source, question), in order."""
    partial = run / (TASKS + ".partial")
    partial.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in tasks), encoding="utf-8")
    os.replace(partial, run / TASKS)


def read_tasks(run: Path) -> list[dict[str, Any]] | None:
    """The recorded question set; None for run folders made before it was recorded."""
    return read_jsonl(run / TASKS) if (run / TASKS).exists() else None

"""`memento rate RUN [TASK] good|bad|SCORE`: a person's verdict on an answer becomes the reward of the case
that answer wrote. The memory server re-learns from the case; the run folder keeps the rating (ratings.jsonl)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from memento_client.eval.runfiles import RATINGS, RESULTS, append_jsonl, iteration_dirs, iteration_number, read_jsonl
from memento_client.eval.runs import task_id, task_ids
from memento_client.loop import cases as case_bank
from memento_client.mcp.host import Host
from memento_core.errors import ConfigError

VERDICTS = {"good": 1.0, "bad": 0.0}


def parse_verdict(text: str) -> float:
    """good = 1, bad = 0, or a score from 0 to 1."""
    value = VERDICTS.get(text.lower())
    if value is None:
        try:
            value = float(text)
        except ValueError:
            value = None
    if value is None or not 0 <= value <= 1:  # NaN fails the comparison too
        raise ConfigError(f"rating {text!r}: give good, bad or a score from 0 to 1")
    return value


def rated_case(run: Path, task: str | None) -> tuple[str, int, str]:
    """The task's id, the latest iteration with its result, and the case that result wrote. `task` may be
    left out when the run has a single task (as `memento ask` runs do)."""
    if task is None:
        ids = task_ids(run)
        if len(ids) != 1:
            example = f"`memento rate {run.name} {ids[0] if ids else 'TASK'} good`"
            raise ConfigError(f"run {run.name} has {len(ids)} tasks: name one by id or 1-based index, e.g. {example} (see `memento show {run.name}`)")
        task = ids[0]
    wanted = task_id(run, task)
    for folder in reversed(iteration_dirs(run)):
        rows = [row for row in read_jsonl(folder / RESULTS) if row["id"] == wanted]
        if rows:
            case_id = rows[-1].get("case_id")
            if not case_id:
                raise ConfigError(
                    f"task {wanted} of run {run.name} wrote no case (memory off, no reward, or the memory server failed): nothing to rate"
                )
            return wanted, iteration_number(folder), case_id
    raise ConfigError(f"task {wanted} of run {run.name} has no result yet: nothing to rate")


async def rate(host: Host, run: Path, task: str, iteration: int, case_id: str, reward: float) -> dict[str, Any]:
    """Set the case's reward on the memory server and record the rating in the run folder."""
    before, after = await case_bank.set_reward(host, case_id, reward)
    rating = {
        "task": task,
        "iteration": iteration,
        "case_id": case_id,
        "old_reward": before.reward,
        "new_reward": after.reward,
        "time": time.time(),
    }
    append_jsonl(run / RATINGS, rating)
    return rating

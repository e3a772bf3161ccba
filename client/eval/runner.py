"""`memento eval`: run a question set through the agent for K iterations, carrying the case bank over;
each task `attempts` times per iteration (independent attempts: pass@k).

A run folder holds `config.json`, the question set (`tasks.jsonl`) and, per iteration, `results.jsonl`
(one scored line per finished attempt of a task) and `trajectories.jsonl` (see `runfiles`). Resuming
(the same `--out`) skips every attempt that has a complete result line, so a finished task is never paid
for twice; an attempt interrupted mid-way (its line missing or torn, and then cut off) runs again, and
more `--attempts` or `--iterations` than before run only the new ones.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from memento_client.eval.items import Item, data_uri, task_notes
from memento_client.eval.runfiles import (
    CONFIG,
    MEMORY_STATS,
    PROGRESS,
    RESULTS,
    TRAJECTORIES,
    cut_torn_line,
    read_config,
    read_jsonl,
    read_tasks,
    write_json,
    write_tasks,
)
from memento_client.eval.scoring import accuracy
from memento_client.llm import task_images
from memento_client.loop import cases as case_bank
from memento_client.loop.agent import Agent
from memento_core.errors import ConfigError

log = logging.getLogger(__name__)
Progress = Callable[[int, int, dict[str, Any]], None]  # (iteration, done, result row)
RECORD_DEFAULTS = {"cases_temperature": 0.0, "benchmark": "qa"}  # what a run recorded before the key existed meant


@dataclass
class EvalPlan:
    items: list[Item]
    iterations: int
    concurrency: int
    out: Path
    config: dict[str, Any]  # recorded in config.json (dataset, limit, memory, models, same_task_cases, ...)
    attempts: int = 1  # independent attempts per task and iteration (pass@k)
    vision: bool = False  # send tasks' images to the model

    @property
    def excludes_own_cases(self) -> bool:
        """The honest protocol: a question never sees its own past cases (`--allow-same-task` turns it off)."""
        return self.config.get("same_task_cases", "excluded") == "excluded"

    def task_tag(self, item: Item) -> str:
        """The tag a question's cases carry, so that later iterations and runs can leave them out."""
        return f"task:{Path(str(self.config.get('dataset', ''))).stem}:{item.id}"


def task_record(item: Item) -> dict[str, Any]:
    """What the run folder records of a question (tasks.jsonl)."""
    record = {"id": item.id, "source": item.source, "question": item.question}
    return {**record, "group": item.group} if item.group else record


def prepare(plan: EvalPlan) -> None:
    """Create the run folder, or check that an existing one is the same run (resume)."""
    config_file = plan.out / CONFIG
    if config_file.exists():
        recorded = read_config(plan.out)
        for key in ("dataset", "benchmark", "limit", "seed", "memory", "cases_temperature", "same_task_cases"):
            before, now = recorded.get(key, RECORD_DEFAULTS.get(key)), plan.config.get(key, RECORD_DEFAULTS.get(key))
            if before != now:
                raise ConfigError(
                    f"{plan.out} holds a run with {key}={before!r}, not {now!r}; "
                    "resume with the same options or choose another --out"
                )
        tasks = read_tasks(plan.out)
        if tasks is not None and [t["id"] for t in tasks] != [item.id for item in plan.items]:
            raise ConfigError(f"{plan.out} holds a run of other questions than {plan.config.get('dataset')} gives now; choose another --out")
        recorded["iterations"] = max(recorded.get("iterations", 1), plan.iterations)
        recorded["attempts"] = max(recorded.get("attempts", 1), plan.attempts)
        write_json(config_file, recorded)
    else:
        plan.out.mkdir(parents=True, exist_ok=True)
        write_json(config_file, {**plan.config, "iterations": plan.iterations, "created": time.time()})
    if read_tasks(plan.out) is None:  # new runs, and runs begun before the question set was recorded
        write_tasks(plan.out, map(task_record, plan.items))


def benchmark_scores(item: Item, answer: str | None, metrics: dict[str, float]) -> dict[str, float]:
    """`acc`, the benchmark's own score, where it has one: its scorer's, or the judge's verdict (HLE)."""
    if item.kind == "judge":
        return {"acc": metrics["pm"]} if "pm" in metrics else {}
    acc = accuracy(item.kind, answer, item.answers, item.choices)
    return {} if acc is None else {"acc": acc}


async def benchmark_reward(agent: Agent, row: dict[str, Any]) -> float | None:
    """The case's reward: the benchmark's own score where it has one (the agent rewards by F1, which
    counts "Beatles" right where GAIA counts it wrong), set on the case the agent wrote; else unchanged."""
    acc, case_id, reward = row.get("acc"), row.get("case_id"), row.get("reward")
    if acc is None or not case_id or reward == acc:
        return reward
    try:
        await case_bank.set_reward(agent.host, case_id, acc)
    except Exception as exc:  # the case keeps the agent's reward; the run goes on
        log.warning("case %s of task %s keeps reward %s, not the benchmark's %s: %s", case_id, row["id"], reward, acc, exc)
        return reward
    return acc


def result_row(item: Item, iteration: int, outcome: Any, attempt: int = 1) -> dict[str, Any]:
    """The scored line of one attempt at a task; an exception scores 0 (failed counts as wrong)."""
    row: dict[str, Any] = {"id": item.id, "source": item.source, "iteration": iteration, "question": item.question, "gold": item.answers}
    row |= {"attempt": attempt, **({"group": item.group} if item.group else {})}
    if isinstance(outcome, BaseException):
        failed = {"em": 0.0, "f1": 0.0, **({"acc": 0.0} if item.kind != "qa" and item.answers else {})}
        return {**row, "answer": None, **failed, "error": f"{type(outcome).__name__}: {outcome}", "stop_reason": "error"}
    metrics = outcome.metrics or ({"em": 0.0, "f1": 0.0} if item.answers else {})  # no gold (ask): no scores
    return {
        **row,
        "answer": outcome.answer,
        **metrics,
        **benchmark_scores(item, outcome.answer, metrics),
        "reward": outcome.reward,
        "stop_reason": outcome.stop_reason,
        "case_id": outcome.case_id,
        "retrieved_case_ids": outcome.retrieved_case_ids,
        "usage": outcome.usage,
        "seconds": outcome.seconds,
    }


class ResultWriter:
    """Appends to the iteration's JSONL files, one task at a time, flushed per line. A line left
    unfinished by an interrupted run is cut off first, so the next line does not fuse with it."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        for name in (RESULTS, TRAJECTORIES):
            cut_torn_line(folder / name)
        self.results = (folder / RESULTS).open("a", encoding="utf-8")
        self.trajectories = (folder / TRAJECTORIES).open("a", encoding="utf-8")
        self.lock = anyio.Lock()

    async def write(self, row: dict[str, Any], events: list[dict[str, Any]]) -> None:
        async with self.lock:
            trajectory = {"id": row["id"], "attempt": row.get("attempt", 1), "question": row["question"], "answer": row["answer"], "events": events}
            self.trajectories.write(json.dumps(trajectory, ensure_ascii=False, default=str) + "\n")
            self.trajectories.flush()
            self.results.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")  # last: it marks the task done
            self.results.flush()

    def close(self) -> None:
        self.results.close()
        self.trajectories.close()


class InFlight:
    """The iteration's tasks running now, recorded in progress.json (written whole) as each starts and
    ends, so a live view can show the questions in flight rather than guess them."""

    def __init__(self, run: Path, iteration: int, finished: int):
        self.path, self.iteration = run / PROGRESS, iteration
        self.started = self.finished = finished  # attempts already done before this process count as both
        self.tasks: dict[tuple[str, int], dict[str, Any]] = {}

    def start(self, item: Item, attempt: int) -> None:
        self.started += 1
        self.tasks[(item.id, attempt)] = {"id": item.id, "attempt": attempt, "question": item.question, "started": time.time()}
        self._write()

    def end(self, item: Item, attempt: int) -> None:
        self.finished += 1
        self.tasks.pop((item.id, attempt), None)
        self._write()

    def _write(self) -> None:
        record = {"iteration": self.iteration, "started": self.started, "finished": self.finished, "in_flight": list(self.tasks.values())}
        write_json(self.path, record)


async def run_iteration(agent: Agent, plan: EvalPlan, iteration: int, progress: Progress | None = None) -> int:
    """Run the attempts of one iteration's tasks not yet done; returns how many ran."""
    folder = plan.out / f"iter-{iteration}"
    writer = ResultWriter(folder)  # first: it cuts a torn last line, whose task then counts as not done
    done = {(row["id"], row.get("attempt", 1)) for row in read_jsonl(folder / RESULTS)}
    todo = [(item, n) for n in range(1, plan.attempts + 1) for item in plan.items if (item.id, n) not in done]
    limiter = anyio.CapacityLimiter(plan.concurrency)
    in_flight = InFlight(plan.out, iteration, len(done))

    async def one(item: Item, attempt: int) -> None:
        async with limiter:
            in_flight.start(item, attempt)
            try:
                with task_images([data_uri(ref) for ref in item.images] if plan.vision else []):
                    outcome: Any = await agent.run(
                        item.question,
                        gold=item.answers or None,
                        task_id=item.id,
                        notes=task_notes(item),
                        task_tag=plan.task_tag(item),
                        exclude_own_cases=plan.excludes_own_cases,
                    )
                events = outcome.events
            except Exception as exc:  # a failed task is recorded as wrong, the run goes on
                log.warning("task %s failed: %s", item.id, exc)
                outcome, events = exc, []
            row = result_row(item, iteration, outcome, attempt)
            row["reward"] = await benchmark_reward(agent, row)
            await writer.write(row, events)
            in_flight.end(item, attempt)
            if progress:
                progress(iteration, in_flight.finished, row)

    try:
        async with anyio.create_task_group() as group:
            for item, attempt in todo:
                group.start_soon(one, item, attempt)
    finally:
        writer.close()
    return len(todo)


async def run_eval(agent: Agent, plan: EvalPlan, progress: Progress | None = None) -> None:
    """Every iteration, then the case bank's state (memory_stats.json) for the report."""
    prepare(plan)
    for iteration in range(1, plan.iterations + 1):
        await run_iteration(agent, plan, iteration, progress)
    stats = await case_bank.stats(agent.host) if agent.config.memory != "off" else None
    if stats is not None:
        write_json(plan.out / MEMORY_STATS, stats.model_dump(mode="json"))

"""`Agent(...).run(task)`: the paper's two stages, plan then execute, for up to `max_cycles` cycles,
learning from and adding to the case bank.

    retrieve cases -> plan -> execute each subtask -> report results -> plan again or answer
    -> reward (EM/F1 vs gold, else the judge, else none) -> write_case

The last cycle must answer. A spent budget (steps, tokens, wall time, cost) stops the work and
one closing planner call answers from what was found.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio

from memento_client.config import ClientConfig
from memento_client.errors import BudgetExceeded, LLMError, PlanError
from memento_client.eval.judge import judge
from memento_client.eval.metrics import score
from memento_client.llm import LLM
from memento_client.loop import cases as case_bank
from memento_client.loop.events import (
    Answered,
    BudgetSpent,
    CasesRetrieved,
    CaseWritten,
    ErrorOccurred,
    PlanMade,
    Rewarded,
    SubtaskFinished,
    SubtaskStarted,
    TaskStarted,
)
from memento_client.loop.executor import Executor
from memento_client.loop.plan import Subtask, SubtaskResult
from memento_client.loop.planner import Planner
from memento_client.loop.run import Run
from memento_client.loop.trajectory import Listener
from memento_client.mcp.host import Host

log = logging.getLogger(__name__)


@dataclass
class AgentResult:
    task: str
    answer: str | None
    stop_reason: str  # answered | budget:<kind> | invalid_plan | llm_error
    reward: float | None
    metrics: dict[str, float] | None
    plan: list[str]
    retrieved_case_ids: list[str]
    case_id: str | None
    usage: dict[str, Any]
    seconds: float
    task_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


CLOSING = "The budget is spent: give final_answer now (your best answer if unsure)."


def next_step(cycle: int, cycles: int) -> str:
    if cycle >= cycles:
        return f"Cycle {cycle} of {cycles} is the last: give final_answer now (your best answer if unsure)."
    return f"Cycle {cycle} of {cycles}: answer if the results suffice, else plan the next subtasks."


def results_report(results: Sequence[SubtaskResult], cycle: int, instruction: str) -> str:
    lines = [f"Results of cycle {cycle}:"] if results else []
    lines += [f"[{r.subtask.id}] {r.subtask.description}\nResult: {r.result}" for r in results]
    return "\n\n".join([*lines, instruction])


class Agent:
    def __init__(
        self, llm: LLM, host: Host, config: ClientConfig, *, listeners: Sequence[Listener] = (), run_id: str | None = None
    ):
        self.llm = llm
        self.host = host
        self.config = config
        self.listeners = list(listeners)
        self.run_id = run_id
        self.planner = Planner(llm, config)
        reserved = case_bank.memory_servers(host)
        self.tools = [t for t in host.tools.values() if t.server not in reserved]
        self.executor = Executor(llm, host, config, self.tools)

    async def run(
        self,
        task: str,
        *,
        gold: Sequence[str] | None = None,
        task_id: str | None = None,
        notes: Sequence[str] = (),
        task_tag: str | None = None,
        exclude_own_cases: bool = False,
    ) -> AgentResult:
        """Plan, execute, reward and write the case. `task_tag` labels the case written; with
        `exclude_own_cases`, no case of the same question (same text or `task_tag`) is retrieved."""
        run = Run.start(task, self.config, self.listeners)
        run.emit(TaskStarted(task=task, task_id=task_id, tools=len(self.tools), memory=self.config.memory))
        config = self.config
        cases = await case_bank.retrieve(
            self.host, task, config.cases_k, config.memory, config.cases_temperature, exclude_own_cases, task_tag
        )
        retrieved = cases.ids if cases is not None else []
        run.emit(CasesRetrieved(ids=retrieved, positive=[c.id for c in cases.positive] if cases is not None else []))
        run.messages = self.planner.opening(task, self.tools, cases, list(notes))
        with anyio.move_on_after(self.config.max_wall_s) as deadline:
            try:
                await self._cycles(run)
            except BudgetExceeded as exc:
                run.stop = f"budget:{exc.kind}"
            except PlanError as exc:
                run.stop = "invalid_plan"
                run.emit(ErrorOccurred(message=str(exc)))
            except LLMError as exc:
                run.stop = "llm_error"
                run.emit(ErrorOccurred(message=str(exc)))
        if deadline.cancelled_caught:
            run.stop = "budget:wall_time"
        if run.stop.startswith("budget:"):
            run.emit(BudgetSpent(budget=run.stop.split(":", 1)[1]))
            run.answer = await self._closing_answer(run)
        run.emit(Answered(answer=run.answer, stop_reason=run.stop))
        metrics, reward = await self._reward(run, gold)
        run.emit(Rewarded(reward=reward, metrics=metrics))
        case_id = None
        if self.config.memory != "off":
            tags = [task_tag] if task_tag else []
            case_id = await case_bank.write(self.host, task, run.plan, run.answer, reward, retrieved, self.run_id, tags)
            if case_id is not None:
                run.emit(CaseWritten(case_id=case_id))
        return AgentResult(
            task=task,
            answer=run.answer,
            stop_reason=run.stop,
            reward=reward,
            metrics=metrics,
            plan=run.plan,
            retrieved_case_ids=retrieved,
            case_id=case_id,
            usage=run.usage.as_dict(),
            seconds=round(time.monotonic() - run.started, 3),
            task_id=task_id,
            events=run.trajectory.as_dicts(),
        )

    async def _cycles(self, run: Run) -> None:
        cycles = self.config.max_cycles
        for cycle in range(1, cycles + 1):
            run.budget.check()
            turn = await self.planner.next(run, final=cycle == cycles)
            run.emit(
                PlanMade(cycle=cycle, thought=turn.thought, subtasks=[s.model_dump() for s in turn.plan], final_answer=turn.final_answer)
            )
            if turn.final_answer:
                run.answer = turn.final_answer
                return
            run.plan = [s.description for s in turn.plan]
            for subtask in turn.plan:
                run.unreported.append(await self._subtask(run, subtask))
            run.messages.append({"role": "user", "content": results_report(run.unreported, cycle, next_step(cycle + 1, cycles))})
            run.done += run.unreported
            run.unreported = []
            run.cycle = cycle

    async def _subtask(self, run: Run, subtask: Subtask) -> SubtaskResult:
        run.emit(SubtaskStarted(id=subtask.id, description=subtask.description))
        result = await self.executor.run(run, subtask)
        run.emit(SubtaskFinished(id=subtask.id, result=result.result, steps=result.steps, stop=result.stop))
        return result

    async def _closing_answer(self, run: Run) -> str | None:
        """One planner call, past the budget, to answer from what was found."""
        if run.answer:
            return run.answer
        run.messages.append({"role": "user", "content": results_report(run.unreported, run.cycle + 1, CLOSING)})
        try:
            with anyio.fail_after(self.config.request_timeout_s * 2):
                turn = await self.planner.next(run, final=True)
        except (PlanError, LLMError, TimeoutError) as exc:
            run.emit(ErrorOccurred(message=f"no closing answer: {exc}"))
            return None
        return turn.final_answer

    async def _reward(self, run: Run, gold: Sequence[str] | None) -> tuple[dict[str, float] | None, float | None]:
        """Metrics vs gold (EM, F1 and, with a judge, PM) and the reward: PM if judged, else F1."""
        if gold:
            metrics = score(run.answer, gold)
            pm = await judge(self.llm, run.usage, run.task, run.answer, gold)
            if pm is not None:
                metrics["pm"] = pm
            return metrics, pm if pm is not None else metrics["f1"]
        return None, await judge(self.llm, run.usage, run.task, run.answer)

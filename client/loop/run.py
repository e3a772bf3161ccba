"""`Run`: one task in flight, created once by the agent and handed to the planner and the executor."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from memento_client.config import ClientConfig
from memento_client.llm import Usage
from memento_client.loop.budget import Budget
from memento_client.loop.events import Event
from memento_client.loop.plan import SubtaskResult
from memento_client.loop.trajectory import Listener, Trajectory


@dataclass
class Run:
    task: str
    usage: Usage
    budget: Budget
    trajectory: Trajectory
    messages: list[dict[str, Any]] = field(default_factory=list)  # the planner's conversation
    answer: str | None = None
    stop: str = "answered"  # answered | budget:<kind> | invalid_plan | llm_error
    plan: list[str] = field(default_factory=list)  # the latest plan's subtask descriptions
    done: list[SubtaskResult] = field(default_factory=list)  # results already reported to the planner
    unreported: list[SubtaskResult] = field(default_factory=list)  # results of the cycle in progress
    cycle: int = 0  # the last cycle completed
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def start(cls, task: str, config: ClientConfig, listeners: Sequence[Listener]) -> Run:
        usage = Usage()
        return cls(task, usage, Budget(config, usage), Trajectory(list(listeners)))

    def emit(self, event: Event) -> None:
        self.trajectory.emit(event)

    @property
    def results(self) -> list[SubtaskResult]:
        """Every subtask result so far, reported or not."""
        return self.done + self.unreported

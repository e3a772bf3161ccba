"""What the loop passes between its stages: the planner's subtasks and turn, and a subtask's result."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field


class Subtask(BaseModel):
    id: int
    description: str = Field(min_length=1)


class PlannerTurn(BaseModel):
    thought: str = ""
    plan: list[Subtask] = Field(default_factory=list)
    final_answer: str | None = None


@dataclass
class SubtaskResult:
    subtask: Subtask
    result: str
    steps: int
    stop: str  # answered | step_cap | stuck | budget

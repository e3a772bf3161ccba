"""The trajectory's events: one dataclass per kind, each rendering itself for the live view and giving
the JSON dict saved in `trajectories.jsonl` (`{"kind": ..., "t": ..., <fields>}`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from rich.markup import escape


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Event:
    kind: ClassVar[str]
    phase: ClassVar[str | None] = None  # subtask events share a kind and differ by phase
    t: float = field(default=0.0, kw_only=True)  # seconds since the task started, set by the trajectory

    def as_dict(self) -> dict[str, Any]:
        head: dict[str, Any] = {"kind": self.kind, "t": self.t}
        if self.phase is not None:
            head["phase"] = self.phase
        return {**head, **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "t"}}

    @property
    def stamp(self) -> str:
        return f"[dim]{self.t:7.2f}s[/dim]"

    def render(self) -> str | None:
        """Rich markup for the live view (None: not worth a line)."""
        return None

    def activity(self) -> str | None:
        """What the agent does after this event, for the spinner line (None: done)."""
        return "working…"


@dataclass
class TaskStarted(Event):
    kind = "task"
    task: str
    task_id: str | None
    tools: int
    memory: str

    def render(self) -> str:
        return f"{self.stamp} [bold]task[/bold] {escape(_short(self.task))} [dim]({self.tools} tools, memory {self.memory})[/dim]"

    def activity(self) -> str:
        return "retrieving cases…"


@dataclass
class CasesRetrieved(Event):
    kind = "cases"
    ids: list[str]
    positive: list[str]

    def render(self) -> str:
        return f"{self.stamp} [cyan]cases[/cyan] {len(self.ids)} retrieved ({len(self.positive)} successful)"

    def activity(self) -> str:
        return "planning…"


@dataclass
class PlanMade(Event):
    kind = "plan"
    cycle: int
    thought: str
    subtasks: list[dict[str, Any]]
    final_answer: str | None

    def render(self) -> str:
        if self.final_answer:
            return f"{self.stamp} [bold cyan]plan {self.cycle}[/bold cyan] → answer"
        steps = "\n".join(f"          {s['id']}. {escape(_short(s['description']))}" for s in self.subtasks)
        return f"{self.stamp} [bold cyan]plan {self.cycle}[/bold cyan] {escape(_short(self.thought or '', 80))}\n{steps}"

    def activity(self) -> str:
        return "answering…" if self.final_answer else "executing…"


@dataclass
class SubtaskStarted(Event):
    kind = "subtask"
    phase = "start"
    id: int
    description: str

    def render(self) -> str:
        return f"{self.stamp} [yellow]▶ subtask {self.id}[/yellow] {escape(_short(self.description))}"

    def activity(self) -> str:
        return f"subtask {self.id}: thinking…"


@dataclass
class SubtaskFinished(Event):
    kind = "subtask"
    phase = "end"
    id: int
    result: str
    steps: int
    stop: str

    def render(self) -> str:
        return f"{self.stamp} [yellow]✓ subtask {self.id}[/yellow] ({self.steps} steps, {self.stop}) {escape(_short(self.result))}"

    def activity(self) -> str:
        return "planning…"


@dataclass
class ToolStarted(Event):
    kind = "tool_start"
    subtask: int
    name: str

    def activity(self) -> str:
        return f"subtask {self.subtask}: {self.name}…"


@dataclass
class ToolCalled(Event):
    kind = "tool"
    subtask: int
    name: str
    arguments: dict[str, Any]
    ok: bool
    seconds: float
    restarted: bool
    output: str

    def render(self) -> str:
        mark = "[green]ok[/green]" if self.ok else "[red]error[/red]"
        restarted = " [magenta](server restarted)[/magenta]" if self.restarted else ""
        args = escape(_short(self.arguments, 80))
        return f"{self.stamp}     [blue]{self.name}[/blue] {args} {mark} {self.seconds:.2f}s{restarted}"

    def activity(self) -> str:
        return f"subtask {self.subtask}: thinking…"


@dataclass
class BudgetSpent(Event):
    kind = "budget"
    budget: str

    def render(self) -> str:
        return f"{self.stamp} [red]budget spent: {self.budget}[/red]"

    def activity(self) -> str:
        return "planning…"


@dataclass
class ErrorOccurred(Event):
    kind = "error"
    message: str

    def render(self) -> str:
        return f"{self.stamp} [red]{escape(self.message)}[/red]"


@dataclass
class Answered(Event):
    kind = "answer"
    answer: str | None
    stop_reason: str

    def render(self) -> str:
        return f"{self.stamp} [bold green]answer[/bold green] {escape(str(self.answer))} [dim]({self.stop_reason})[/dim]"

    def activity(self) -> str:
        return "scoring and saving the case…"


@dataclass
class Rewarded(Event):
    kind = "reward"
    reward: float | None
    metrics: dict[str, float] | None

    def render(self) -> str | None:
        if self.reward is None:
            return None
        return f"{self.stamp} [green]reward[/green] {self.reward:.2f} {escape(_short(self.metrics or ''))}"

    def activity(self) -> None:
        return None


@dataclass
class CaseWritten(Event):
    kind = "case_written"
    case_id: str

    def render(self) -> str:
        return f"{self.stamp} [cyan]case written[/cyan] {self.case_id}"

    def activity(self) -> None:
        return None


KINDS: tuple[type[Event], ...] = (
    TaskStarted, CasesRetrieved, PlanMade, SubtaskStarted, SubtaskFinished, ToolStarted, ToolCalled,
    BudgetSpent, ErrorOccurred, Answered, Rewarded, CaseWritten,
)  # fmt: skip


def from_dict(data: dict[str, Any]) -> Event | None:
    """The event a saved dict records (None for a kind this version does not know, or a dict missing fields)."""
    cls = next((c for c in KINDS if c.kind == data.get("kind") and c.phase == data.get("phase")), None)
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:  # an older or hand-edited trajectory: skip the event rather than fail the replay
        return None

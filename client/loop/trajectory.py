"""A run's trajectory: a list of timed events (cases, plans, subtasks, tool calls, answer, reward),
saved as JSON and streamed to listeners such as the live view."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Listener = Callable[[dict[str, Any]], None]


@dataclass
class Trajectory:
    task: str
    listeners: list[Listener] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def emit(self, kind: str, **data: Any) -> dict[str, Any]:
        event = {"kind": kind, "t": round(self.elapsed(), 3), **data}
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

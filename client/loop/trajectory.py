"""A run's trajectory: its timed events (cases, plans, subtasks, tool calls, answer, reward), streamed to
listeners such as the live view and saved as their JSON dicts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memento_client.loop.events import Event

Listener = Callable[[Event], None]


@dataclass
class Trajectory:
    listeners: list[Listener] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def emit(self, event: Event) -> Event:
        event.t = round(self.elapsed(), 3)
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def as_dicts(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.events]

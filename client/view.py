"""Showing a run to a person: each trajectory event as its line of rich text, live (`memento ask`) or
replayed (`memento show`)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from memento_client.loop.events import Event


class LiveView:
    """Prints events as they happen, with a spinner naming the step in progress (all on stderr, so
    stdout carries only the answer). Call `close()` when the run ends."""

    def __init__(self, console: Console | None = None, spinner: bool = False):
        self.console = console or Console(stderr=True, highlight=False)
        self.status = self.console.status("[dim]starting the MCP servers…[/dim]") if spinner and self.console.is_terminal else None
        if self.status is not None:
            self.status.start()

    def __call__(self, event: Event) -> None:
        line = event.render()
        if line is not None:
            self.console.print(line)
        if self.status is not None:
            doing = event.activity()
            if doing is None:
                self.status.stop()
            else:
                self.status.update(f"[dim]{escape(doing)}[/dim]")
                self.status.start()

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()

"""Showing a run to a person: each trajectory event as a line of rich text, live (`memento ask`) or
replayed (`memento show`)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(event: dict[str, Any]) -> str | None:
    """Rich markup for one event (None for events not worth a line)."""
    kind, t = event["kind"], f"[dim]{event.get('t', 0):7.2f}s[/dim]"
    if kind == "task":
        return f"{t} [bold]task[/bold] {escape(_short(event['task']))} [dim]({event.get('tools', '?')} tools, memory {event.get('memory')})[/dim]"
    if kind == "cases":
        ids = event.get("ids") or []
        return f"{t} [cyan]cases[/cyan] {len(ids)} retrieved ({len(event.get('positive') or [])} successful)"
    if kind == "plan":
        if event.get("final_answer"):
            return f"{t} [bold cyan]plan {event['cycle']}[/bold cyan] → answer"
        steps = "\n".join(f"          {s['id']}. {escape(_short(s['description']))}" for s in event.get("subtasks", []))
        return f"{t} [bold cyan]plan {event['cycle']}[/bold cyan] {escape(_short(event.get('thought') or '', 80))}\n{steps}"
    if kind == "subtask":
        if event["phase"] == "start":
            return f"{t} [yellow]▶ subtask {event['id']}[/yellow] {escape(_short(event['description']))}"
        return f"{t} [yellow]✓ subtask {event['id']}[/yellow] ({event['steps']} steps, {event['stop']}) {escape(_short(event['result']))}"
    if kind == "tool":
        mark = "[green]ok[/green]" if event["ok"] else "[red]error[/red]"
        restarted = " [magenta](server restarted)[/magenta]" if event.get("restarted") else ""
        args = escape(_short(event.get("arguments", {}), 80))
        return f"{t}     [blue]{event['name']}[/blue] {args} {mark} {event['seconds']:.2f}s{restarted}"
    if kind == "budget":
        return f"{t} [red]budget spent: {event['budget']}[/red]"
    if kind == "error":
        return f"{t} [red]{escape(event['message'])}[/red]"
    if kind == "answer":
        return f"{t} [bold green]answer[/bold green] {escape(str(event.get('answer')))} [dim]({event['stop_reason']})[/dim]"
    if kind == "reward" and event.get("reward") is not None:
        return f"{t} [green]reward[/green] {event['reward']:.2f} {escape(_short(event.get('metrics') or ''))}"
    if kind == "case_written":
        return f"{t} [cyan]case written[/cyan] {event['case_id']}"
    return None


def activity(event: dict[str, Any]) -> str | None:
    """What the agent is doing after `event`, for the spinner line (None: done)."""
    kind = event["kind"]
    if kind == "task":
        return "retrieving cases…"
    if kind in ("cases", "budget") or (kind == "subtask" and event["phase"] == "end"):
        return "planning…"
    if kind == "plan":
        return "answering…" if event.get("final_answer") else "executing…"
    if kind == "subtask" or kind == "tool":
        return f"subtask {event.get('id', event.get('subtask'))}: thinking…"
    if kind == "tool_start":
        return f"subtask {event['subtask']}: {event['name']}…"
    if kind == "answer":
        return "scoring and saving the case…"
    return None if kind == "case_written" or kind == "reward" else "working…"


class LiveView:
    """Prints events as they happen, with a spinner naming the step in progress (all on stderr, so
    stdout carries only the answer). Call `close()` when the run ends."""

    def __init__(self, console: Console | None = None, spinner: bool = False):
        self.console = console or Console(stderr=True, highlight=False)
        self.status = self.console.status("[dim]starting the MCP servers…[/dim]") if spinner and self.console.is_terminal else None
        if self.status is not None:
            self.status.start()

    def __call__(self, event: dict[str, Any]) -> None:
        line = render(event)
        if line is not None:
            self.console.print(line)
        if self.status is not None:
            doing = activity(event)
            if doing is None:
                self.status.stop()
            else:
                self.status.update(f"[dim]{escape(doing)}[/dim]")
                self.status.start()

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()

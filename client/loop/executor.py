"""The executor: one subtask, a tool-calling loop over the MCP tools, a concise result for the planner.

Per step the model may call several tools (run in parallel); errors come back to it as tool
errors; outputs are cut to a budget; the conversation is trimmed without orphaning tool replies.
The loop ends when the model answers without tools, at the step cap (one last call without tools
asks for the result), or when it repeats the same call `stuck_repeats` times.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import anyio

from memento_client.config import ClientConfig
from memento_client.llm import LLM, ToolCall
from memento_client.loop.context import trim_messages
from memento_client.loop.events import ToolCalled, ToolStarted
from memento_client.loop.plan import Subtask, SubtaskResult
from memento_client.loop.run import Run
from memento_client.mcp.host import Host, ToolInfo, ToolOutcome

SYSTEM = """You are the executor of a research agent. Carry out the one subtask you are given, using the tools. Call several tools at once when the calls are independent. Read tool errors and fix your call. When done, reply WITHOUT tool calls with a concise result: the facts found (with where they came from), or what could not be found and why. Do only your subtask."""
FORCE_RESULT = "Stop calling tools now: {why}. Reply with your result from what you have found so far."
IMAGES_SHOWN = "[{count} image(s) returned by this call: shown in the next message, once]"
IMAGES_HIDDEN = "[{count} image(s) returned by this call, not shown: the model takes no image input (vision is off)]"
IMAGES_FROM = "The image(s) returned by {names}:"
IMAGES_SEEN = "[{count} image(s) shown to you here once; call the tool again to see them again]"


def clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut; ask for a narrower range or the next page]"


class Executor:
    def __init__(self, llm: LLM, host: Host, config: ClientConfig, tools: list[ToolInfo]):
        self.llm = llm
        self.host = host
        self.config = config
        self.tools = {t.qualified: t for t in tools}

    def opening(self, task: str, subtask: Subtask, earlier: list[SubtaskResult]) -> list[dict[str, Any]]:
        done = "\n".join(f"- {r.subtask.description}\n  Result: {r.result}" for r in earlier) or "(none yet)"
        user = f"Overall task: {task}\n\nResults so far:\n{done}\n\nYour subtask: {subtask.description}"
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    async def run(self, run: Run, subtask: Subtask) -> SubtaskResult:
        messages = self.opening(run.task, subtask, run.results)
        tools = [t.openai_tool() for t in self.tools.values()]
        seen: Counter[str] = Counter()
        for step in range(1, self.config.max_steps_per_subtask + 1):
            run.budget.check()
            messages = trim_messages(messages, self.config.context_chars)
            reply = await self.llm.complete("executor", messages, usage=run.usage, tools=tools or None)
            messages = [*map(without_images, messages), reply.as_message()]  # tool images go in one request only
            if not reply.tool_calls:
                return SubtaskResult(subtask, clip((reply.content or "").strip(), self.config.tool_output_chars), step, "answered")
            outcomes = await self._call_all(reply.tool_calls, subtask, run)
            messages += [
                {"role": "tool", "tool_call_id": call.id, "content": self._tool_text(outcome)}
                for call, outcome in zip(reply.tool_calls, outcomes)
            ]
            if self.config.vision and (images := images_message(reply.tool_calls, outcomes)):
                messages.append(images)
            for call in reply.tool_calls:
                seen[f"{call.name}:{_canonical(call.arguments)}"] += 1
            if max(seen.values()) >= self.config.stuck_repeats:
                return await self._finish(run, messages, subtask, step, "stuck")
        return await self._finish(run, messages, subtask, self.config.max_steps_per_subtask, "step_cap")

    async def _finish(self, run: Run, messages: list[dict[str, Any]], subtask: Subtask, steps: int, stop: str) -> SubtaskResult:
        why = "the same call keeps repeating" if stop == "stuck" else "the step limit is reached"
        run.budget.check()
        messages = trim_messages([*messages, {"role": "user", "content": FORCE_RESULT.format(why=why)}], self.config.context_chars)
        reply = await self.llm.complete("executor", messages, usage=run.usage)
        text = clip((reply.content or "").strip(), self.config.tool_output_chars) if not reply.tool_calls else ""
        return SubtaskResult(subtask, text or f"(no result: {why})", steps + 1, stop)

    def _tool_text(self, outcome: ToolOutcome) -> str:
        """The tool reply's text, noting its images: shown next (vision on) or not shown (vision off)."""
        text = clip(outcome.text, self.config.tool_output_chars)
        if outcome.images:
            note = IMAGES_SHOWN if self.config.vision else IMAGES_HIDDEN
            text = f"{text}\n{note.format(count=len(outcome.images))}".strip()
        return f"ERROR: {text}" if outcome.is_error else text

    async def _call_all(self, calls: list[ToolCall], subtask: Subtask, run: Run) -> list[ToolOutcome]:
        outcomes: list[ToolOutcome] = [ToolOutcome("", True)] * len(calls)

        async def one(index: int, call: ToolCall) -> None:
            arguments: dict[str, Any] = {}
            if call.name not in self.tools:
                outcome = ToolOutcome(f"unknown tool {call.name!r}; use one of: {', '.join(self.tools) or 'none'}", True)
            else:
                try:
                    arguments = call.parsed_arguments()
                    run.emit(ToolStarted(subtask=subtask.id, name=call.name))
                    outcome = await self.host.call(call.name, arguments)
                except ValueError as problem:
                    outcome, arguments = ToolOutcome(f"{call.name}: {problem}", True), {"_raw": call.arguments}
            text = clip(outcome.text, self.config.tool_output_chars)
            outcomes[index] = outcome
            run.emit(
                ToolCalled(
                    subtask=subtask.id,
                    name=call.name,
                    arguments=arguments,
                    ok=not outcome.is_error,
                    seconds=round(outcome.seconds, 3),
                    restarted=outcome.restarted,
                    output=text[:500],
                )
            )

        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(one, index, call)
        return outcomes


def images_message(calls: list[ToolCall], outcomes: list[ToolOutcome]) -> dict[str, Any] | None:
    """A user message showing the tools' images as OpenAI `image_url` parts (tool messages carry text only)."""
    shown = [(call.name, uri) for call, outcome in zip(calls, outcomes) for uri in outcome.images]
    if not shown:
        return None
    names = ", ".join(dict.fromkeys(name for name, _ in shown))
    parts = [{"type": "text", "text": IMAGES_FROM.format(names=names)}]
    parts += [{"type": "image_url", "image_url": {"url": uri}} for _, uri in shown]
    return {"role": "user", "content": parts}


def without_images(message: dict[str, Any]) -> dict[str, Any]:
    """`message` with its image parts replaced by a note, once the model has seen them."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    count = sum(1 for part in content if part.get("type") == "image_url")
    texts = [part.get("text") or "" for part in content if part.get("type") == "text"]
    return {**message, "content": "\n".join([*texts, IMAGES_SEEN.format(count=count)])}


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except json.JSONDecodeError:
        return arguments

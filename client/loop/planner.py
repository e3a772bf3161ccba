"""The planner: from the task, the tools and past cases to a plan of subtasks or a final answer.

Its reply is one JSON object checked against `PLAN_SCHEMA`: sent as a structured-output
(`json_schema`) request where the endpoint supports it, otherwise read out of the text; an
invalid reply gets exactly one repair request naming the problem.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from memento_client.config import ClientConfig
from memento_client.errors import PlanError
from memento_client.llm import LLM
from memento_client.loop.context import trim_messages
from memento_client.loop.plan import PlannerTurn
from memento_client.loop.run import Run
from memento_client.mcp.host import ToolInfo
from memento_memory.models import RetrievedCase, RetrievedCases

PLAN_SCHEMA: dict[str, Any] = {
    "name": "planner_turn",
    "strict": True,
    "schema": {
        "type": "object",
        "additionalProperties": False,
        "required": ["thought", "plan", "final_answer"],
        "properties": {
            "thought": {"type": "string"},
            "plan": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "description"],
                    "properties": {"id": {"type": "integer"}, "description": {"type": "string"}},
                },
            },
            "final_answer": {"type": ["string", "null"]},
        },
    },
}

SYSTEM = """You are the planner of a research agent. You solve the user's task by splitting it into subtasks that an executor carries out with tools; then you read their results and either answer or plan again.

The executor's tools:
{tools}

Reply with ONE JSON object and nothing else:
{{"thought": "<brief reasoning>", "plan": [{{"id": 1, "description": "<subtask>"}}], "final_answer": null}}
- To act: at most {max_subtasks} subtasks, each self-contained (the executor sees only the task, its subtask and earlier results), and "final_answer": null.
- To answer: "plan": [] and "final_answer": "<answer>". Make the answer as short as the question allows (a name, number, date or phrase), without explanation.
You have {max_cycles} plan-execute cycle(s); in the last one you must answer."""


def tool_lines(tools: list[ToolInfo]) -> str:
    if not tools:
        return "- (none: answer from your own knowledge)"
    return "\n".join(f"- {t.qualified}: {t.description.strip().splitlines()[0][:200]}" for t in tools)


def case_text(case: RetrievedCase) -> str:
    plan = case.plan if isinstance(case.plan, str) else json.dumps(case.plan, ensure_ascii=False)
    lines = [f"Task: {case.task}", f"Plan: {plan}"]
    if case.answer:
        lines.append(f"Answer: {case.answer}")
    return "\n".join(lines)


def cases_text(cases: RetrievedCases | None) -> str:
    """Past cases as the planner sees them: successes to imitate, failures to avoid."""
    if cases is None or not cases.ids:
        return ""
    parts = ["Past cases similar to this task, from the case bank:"]
    if cases.positive:
        parts.append("Successful cases (plans that worked; imitate them where they fit):")
        parts += [f"[case {c.id}]\n{case_text(c)}" for c in cases.positive]
    if cases.negative:
        parts.append("Failed cases (plans that did not work; avoid their mistakes):")
        parts += [f"[case {c.id}]\n{case_text(c)}" for c in cases.negative]
    return "\n\n".join(parts)


def extract_json(text: str) -> Any:
    """The first JSON object in `text` (fences and surrounding prose ignored)."""
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    raise ValueError("no JSON object found in the reply")


def prose_answer(text: str | None) -> str | None:
    """A reply in plain prose (no JSON at all, not even broken JSON) read as an answer, else None."""
    answer = re.sub(r"^\s*(final answer|answer)\s*:\s*", "", (text or "").strip(), flags=re.IGNORECASE).strip()
    return answer if answer and "{" not in answer else None


def parse_turn(text: str | None, *, final: bool, max_subtasks: int) -> PlannerTurn:
    """A validated planner turn; ValueError with a message the model can act on otherwise. On the last
    cycle a reply in prose is the answer: small models often answer so, and it is all there is to keep."""
    try:
        found = extract_json(text or "")
    except ValueError:
        if final and (answer := prose_answer(text)):
            return PlannerTurn(thought="(the planner answered in prose, not JSON)", plan=[], final_answer=answer)
        raise
    try:
        turn = PlannerTurn.model_validate(found)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"the JSON does not match the schema ({problems})") from exc
    answer = (turn.final_answer or "").strip()
    if final and not answer:
        raise ValueError('this is the last cycle: "final_answer" must be a non-empty string')
    if answer:
        return PlannerTurn(thought=turn.thought, plan=[], final_answer=answer)
    if not turn.plan:
        raise ValueError('give either a non-empty "plan" or a non-empty "final_answer"')
    return PlannerTurn(thought=turn.thought, plan=turn.plan[:max_subtasks], final_answer=None)


class Planner:
    def __init__(self, llm: LLM, config: ClientConfig):
        self.llm = llm
        self.config = config

    def opening(self, task: str, tools: list[ToolInfo], cases: RetrievedCases | None, notes: list[str]) -> list[dict[str, Any]]:
        system = SYSTEM.format(
            tools=tool_lines(tools), max_subtasks=self.config.max_subtasks, max_cycles=self.config.max_cycles
        )
        user = "\n\n".join(part for part in [f"Task: {task}", *notes, cases_text(cases)] if part)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def next(self, run: Run, *, final: bool) -> PlannerTurn:
        """Ask for the next turn (appending it to `run.messages`); one repair attempt, then `PlanError`."""
        schema = PLAN_SCHEMA if self.config.structured_output else None
        messages = run.messages
        for attempt in (1, 2):
            messages[:] = trim_messages(messages, self.config.context_chars)
            reply = await self.llm.complete("planner", messages, usage=run.usage, json_schema=schema)
            messages.append({"role": "assistant", "content": reply.content or ""})
            try:
                return parse_turn(reply.content, final=final, max_subtasks=self.config.max_subtasks)
            except ValueError as problem:
                if attempt == 2:
                    raise PlanError(f"invalid plan after one repair: {problem}") from problem
                messages.append(
                    {"role": "user", "content": f"Your reply was not valid: {problem}. Reply again with only the JSON object."}
                )
        raise AssertionError("unreachable")

"""The case bank as the loop sees it: `retrieve_cases` and `write_case` on whichever server offers them.

The memory server's tools are discovered, not assumed: arguments are filled by the names the
tool's input schema declares (query/task/question, k/top_k, policy, ...), and returned cases are
read leniently (id/case_id, task/question, plan, answer, reward).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from memento_client.host import Host, ToolInfo

log = logging.getLogger(__name__)
POSITIVE_REWARD = 0.5  # a case with at least this reward is shown as a success


@dataclass
class Case:
    id: str
    task: str
    plan: Any
    answer: str | None
    reward: float | None

    @property
    def positive(self) -> bool:
        return self.reward is not None and self.reward >= POSITIVE_REWARD

    def render(self) -> str:
        plan = self.plan if isinstance(self.plan, str) else json.dumps(self.plan, ensure_ascii=False)
        lines = [f"Task: {self.task}", f"Plan: {plan}"]
        if self.answer:
            lines.append(f"Answer: {self.answer}")
        return "\n".join(lines)


def _find_tool(host: Host, name: str) -> ToolInfo | None:
    return next((t for t in host.tools.values() if t.name == name), None)


def _fill(tool: ToolInfo, values: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """Arguments for `tool`: each value goes to the first of its candidate names the schema declares."""
    declared = tool.input_schema.get("properties", {})
    arguments: dict[str, Any] = {}
    for names, value in values.items():
        name = next((n for n in names if n in declared), None)
        if name is not None and value is not None:
            arguments[name] = value
    return arguments


def _case(raw: dict[str, Any]) -> Case:
    reward = raw.get("reward")
    return Case(
        id=str(raw.get("id") or raw.get("case_id") or ""),
        task=str(raw.get("task") or raw.get("question") or ""),
        plan=raw.get("plan"),
        answer=raw.get("answer"),
        reward=float(reward) if isinstance(reward, (int, float)) else None,
    )


def _cases_in(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return [c for c in payload if isinstance(c, dict)]
    if isinstance(payload, dict):
        for key in ("cases", "results", "items"):
            if isinstance(payload.get(key), list):
                return _cases_in(payload[key])
    return []


def can_remember(host: Host) -> bool:
    return _find_tool(host, "retrieve_cases") is not None


async def retrieve(host: Host, task: str, k: int, policy: str) -> list[Case]:
    """Up to `k` cases for `task`; none when memory is off, absent or failing (logged)."""
    tool = _find_tool(host, "retrieve_cases")
    if tool is None or policy == "off" or k == 0:
        return []
    arguments = _fill(tool, {("query", "task", "question", "text"): task, ("k", "top_k", "limit"): k, ("policy",): policy})
    outcome = await host.call(tool.qualified, arguments)
    if outcome.is_error:
        log.warning("retrieve_cases failed: %s", outcome.text)
        return []
    payload = outcome.structured if outcome.structured is not None else _json(outcome.text)
    return [_case(c) for c in _cases_in(payload)]


async def write(
    host: Host, task: str, plan: Any, answer: str | None, reward: float | None, retrieved: list[str], run_id: str | None
) -> str | None:
    """Store the finished task as a case; returns its id, or None when there is no memory or it failed."""
    tool = _find_tool(host, "write_case")
    if tool is None:
        return None
    arguments = _fill(
        tool,
        {
            ("task", "question", "query"): task,
            ("plan",): plan if _wants_object(tool, "plan") else json.dumps(plan, ensure_ascii=False),
            ("answer", "final_answer"): answer,
            ("reward",): reward,
            ("retrieved_case_ids", "retrieved_ids", "retrieved", "used_case_ids"): retrieved,
            ("source", "run_id"): run_id,
        },
    )
    outcome = await host.call(tool.qualified, arguments)
    if outcome.is_error:
        log.warning("write_case failed: %s", outcome.text)
        return None
    payload = outcome.structured if outcome.structured is not None else _json(outcome.text)
    if isinstance(payload, dict):
        value = payload.get("id") or payload.get("case_id") or (payload.get("case") or {}).get("id")
        return str(value) if value else ""
    return ""


def _wants_object(tool: ToolInfo, name: str) -> bool:
    spec = tool.input_schema.get("properties", {}).get(name, {})
    kinds = {spec.get("type")} | {s.get("type") for s in spec.get("anyOf", []) if isinstance(s, dict)}
    return bool(kinds & {"object", "array"}) or spec == {}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None

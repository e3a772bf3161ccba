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

from memento_client.mcp.host import Host, ToolInfo

log = logging.getLogger(__name__)
POSITIVE_REWARD = 0.5  # a case with at least this reward is shown as a success


@dataclass
class Case:
    id: str
    task: str
    plan: Any
    answer: str | None
    reward: float | None
    label: bool | None = None  # the memory server's own positive/negative split, when it gives one

    @property
    def positive(self) -> bool:
        if self.label is not None:
            return self.label
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


def _case(raw: dict[str, Any], label: bool | None = None) -> Case:
    reward = raw.get("reward")
    return Case(
        id=str(raw.get("id") or raw.get("case_id") or ""),
        task=str(raw.get("task") or raw.get("question") or ""),
        plan=raw.get("plan"),
        answer=raw.get("answer"),
        reward=float(reward) if isinstance(reward, (int, float)) else None,
        label=label,
    )


def _cases_in(payload: Any) -> list[Case]:
    """Cases from a list, a {cases|results|items: [...]} object, or a {positive, negative} split."""
    if isinstance(payload, list):
        return [_case(c) for c in payload if isinstance(c, dict)]
    if not isinstance(payload, dict):
        return []
    if isinstance(payload.get("positive"), list) or isinstance(payload.get("negative"), list):
        split = [(c, True) for c in payload.get("positive") or []] + [(c, False) for c in payload.get("negative") or []]
        return [_case(c, label) for c, label in split if isinstance(c, dict)]
    return next((_cases_in(payload[k]) for k in ("cases", "results", "items") if isinstance(payload.get(k), list)), [])


def memory_servers(host: Host) -> set[str]:
    """Servers holding the case bank: their tools are the loop's, never offered to the model."""
    return {t.server for t in host.tools.values() if t.name in ("retrieve_cases", "write_case")}


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
    return _cases_in(payload)


async def write(
    host: Host, task: str, plan: Any, answer: str | None, reward: float | None, retrieved: list[str], run_id: str | None
) -> str | None:
    """Store the finished task as a case; returns its id, or None (no memory tool, no reward, or a failure)."""
    tool = _find_tool(host, "write_case")
    if tool is None or reward is None:  # a case without an outcome would teach the policy nothing true
        return None
    arguments = _fill(
        tool,
        {
            ("task", "question", "query"): task,
            ("plan",): plan if _wants_object(tool, "plan") else json.dumps(plan, ensure_ascii=False),
            ("answer", "final_answer"): answer,
            ("reward",): reward,
            ("retrieved_case_ids", "retrieved_ids", "retrieved", "used_case_ids"): retrieved,
            ("run_id",): run_id,
            ("source",): "memento-client",
        },
    )
    outcome = await host.call(tool.qualified, arguments)
    if outcome.is_error:
        log.warning("write_case failed: %s", outcome.text)
        return None
    payload = outcome.structured if outcome.structured is not None else _json(outcome.text)
    stored = _cases_in(payload)
    if stored:
        return stored[0].id
    if isinstance(payload, dict):
        return str(payload.get("id") or payload.get("case_id") or "")
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

"""The case bank as the loop sees it: memento-memory's `retrieve_cases` and `write_case`, on whichever
server offers them, called with the tools' own parameters and read with the memory package's models."""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memento_client.mcp.host import Host, ToolInfo, ToolOutcome
from memento_memory.models import NewCase, RetrievedCases, WriteReport

log = logging.getLogger(__name__)
RETRIEVE, WRITE = "retrieve_cases", "write_case"
M = TypeVar("M", bound=BaseModel)


def _find_tool(host: Host, name: str) -> ToolInfo | None:
    return next((t for t in host.tools.values() if t.name == name), None)


def memory_servers(host: Host) -> set[str]:
    """Servers holding the case bank: their tools are the loop's, never offered to the model."""
    return {t.server for t in host.tools.values() if t.name in (RETRIEVE, WRITE)}


def retrieve_arguments(
    task: str, k: int, policy: str, temperature: float = 0.0, exclude_own: bool = False, own_tag: str | None = None
) -> dict[str, Any]:
    """`retrieve_cases`' arguments; `exclude_own` leaves out the task's own past cases (same text, or `own_tag`)."""
    arguments: dict[str, Any] = {"task": task, "k": k, "policy": policy}
    if policy == "learned" and temperature > 0:
        arguments["temperature"] = temperature
    if exclude_own:
        arguments["exclude_same_task"] = True
        if own_tag:
            arguments["exclude_tags"] = [own_tag]
    return arguments


def write_arguments(case: NewCase) -> dict[str, Any]:
    """`write_case`'s arguments: the case's fields, defaults left to the server (it sets `trust`; `id` is unused)."""
    return case.model_dump(mode="json", exclude={"trust", "id"}, exclude_defaults=True)


def read_result(outcome: ToolOutcome, model: type[M], tool: str) -> M | None:
    """The tool's result as `model`; None (logged) when the call failed or returned something else."""
    if outcome.is_error:
        log.warning("%s failed: %s", tool, outcome.text)
        return None
    try:
        if outcome.structured is not None:
            return model.model_validate(outcome.structured)
        return model.model_validate_json(outcome.text)
    except ValidationError as exc:
        log.warning("%s returned no %s: %s", tool, model.__name__, exc)
        return None


async def retrieve(
    host: Host,
    task: str,
    k: int,
    policy: str,
    temperature: float = 0.0,
    exclude_own: bool = False,
    own_tag: str | None = None,
) -> RetrievedCases | None:
    """Up to `k` cases for `task`, split positive/negative; None when memory is off, absent or failing."""
    tool = _find_tool(host, RETRIEVE)
    if tool is None or policy == "off" or k == 0:
        return None
    outcome = await host.call(tool.qualified, retrieve_arguments(task, k, policy, temperature, exclude_own, own_tag))
    return read_result(outcome, RetrievedCases, RETRIEVE)


async def write(
    host: Host,
    task: str,
    plan: Any,
    answer: str | None,
    reward: float | None,
    retrieved: list[str],
    run_id: str | None,
    tags: list[str] = (),
) -> str | None:
    """Store the finished task as a case; returns its id, or None (no memory tool, no reward, or a failure)."""
    tool = _find_tool(host, WRITE)
    if tool is None or reward is None:  # a case without an outcome would teach the policy nothing true
        return None
    case = NewCase(
        task=task,
        plan=plan,
        answer=answer or "",
        reward=reward,
        retrieved_case_ids=retrieved,
        run_id=run_id or "",
        source="memento-client",
        tags=list(tags),
    )
    report = read_result(await host.call(tool.qualified, write_arguments(case)), WriteReport, WRITE)
    return report.cases[0].id if report is not None and report.cases else None

"""The case bank as the client sees it: memento-memory's tools (`retrieve_cases`, `write_case` for the loop;
`get_case`, `update_case`, `memory_stats` for rating and reports), on whichever server offers them,
called with the tools' own parameters and read with the memory package's models."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from memento_client.errors import ClientError
from memento_client.mcp.host import Host, ToolInfo, ToolOutcome
from memento_memory.models import BankStats, Case, NewCase, RetrievedCases, WriteReport

log = logging.getLogger(__name__)
RETRIEVE, WRITE, GET, UPDATE, STATS = "retrieve_cases", "write_case", "get_case", "update_case", "memory_stats"
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


def read_result(outcome: ToolOutcome, model: type[M], tool: str) -> M:
    """The tool's result as `model`; `ClientError` saying why when the call failed or returned something else."""
    if outcome.is_error:
        raise ClientError(f"{tool} failed: {outcome.text}")
    try:
        if outcome.structured is not None:
            return model.model_validate(outcome.structured)
        return model.model_validate_json(outcome.text)
    except ValidationError as exc:
        raise ClientError(f"{tool} returned no {model.__name__}: {exc.errors()[0]['msg']}") from exc


async def call(host: Host, name: str, arguments: dict[str, Any], model: type[M]) -> M:
    """Call memory tool `name` and read its result; `ClientError` when no server offers it or the call fails."""
    tool = _find_tool(host, name)
    if tool is None:
        failed = "".join(f"; {server}: {reason}" for server, reason in host.failed.items())
        raise ClientError(f"no MCP server offers the memory tool {name} (is memento-memory in the MCP config, and {name} allowed?){failed}")
    return read_result(await host.call(tool.qualified, arguments), model, name)


async def _or_none(host: Host, name: str, arguments: dict[str, Any], model: type[M]) -> M | None:
    """`call` for the loop: a failure is logged and the task goes on without the case bank."""
    try:
        return await call(host, name, arguments, model)
    except ClientError as exc:
        log.warning("%s", exc)
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
    if _find_tool(host, RETRIEVE) is None or policy == "off" or k == 0:
        return None
    return await _or_none(host, RETRIEVE, retrieve_arguments(task, k, policy, temperature, exclude_own, own_tag), RetrievedCases)


async def write(
    host: Host,
    task: str,
    plan: Any,
    answer: str | None,
    reward: float | None,
    retrieved: list[str],
    run_id: str | None,
    tags: Sequence[str] = (),
) -> str | None:
    """Store the finished task as a case; returns its id, or None (no memory tool, no reward, or a failure)."""
    if _find_tool(host, WRITE) is None or reward is None:  # a case without an outcome would teach the policy nothing true
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
    report = await _or_none(host, WRITE, write_arguments(case), WriteReport)
    return report.cases[0].id if report is not None and report.cases else None


async def set_reward(host: Host, case_id: str, reward: float) -> tuple[Case, Case]:
    """Give a stored case a new reward (the bank re-learns from it); the case before and after."""
    before = await call(host, GET, {"case_id": case_id}, Case)
    return before, await call(host, UPDATE, {"case_id": case_id, "reward": reward}, Case)


async def stats(host: Host) -> BankStats | None:
    """The case bank's counts and learned policy's state; None without a memory server (a failure is logged)."""
    return await _or_none(host, STATS, {}, BankStats) if _find_tool(host, STATS) is not None else None

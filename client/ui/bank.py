"""The case bank as the web UI uses it: the memory server's own tools over MCP (so a remote bank works
too), called through the loop's `cases.call` and read with the memory tools' models."""

from __future__ import annotations

import re
from typing import Any

from memento_client.loop import cases
from memento_client.mcp.host import Host
from memento_core.errors import ConfigError
from memento_memory.models import ID_PATTERN, BankStats, Case, CasePage, CaseProvenance, DeleteResult, RetrievedCases

CASE_ID = re.compile(ID_PATTERN)
POLICIES = ("similarity", "learned")
MAX_K = 50
PROVENANCE_LIMIT = 200  # the latest tasks a case page lists


def case_id(value: str) -> str:
    """`value` if it is a well-formed case id, else `ClientError` (nothing is sent to the server)."""
    if not CASE_ID.match(value):
        raise ConfigError(f"not a case id: {value[:40]!r}")
    return value


def _filters(tags: list[str], source: str | None, min_reward: float | None) -> dict[str, Any]:
    found: dict[str, Any] = {"tags": tags} if tags else {}
    if source:
        found["source"] = source
    if min_reward is not None:
        found["min_reward"] = min_reward
    return found


async def search(
    host: Host, task: str, k: int, tags: list[str], source: str | None, min_reward: float | None, include_quarantined: bool
) -> dict[str, RetrievedCases]:
    """What the agent would retrieve for `task` under each policy, side by side (same call as the loop's)."""
    found = {}
    for policy in POLICIES:
        arguments = {**cases.retrieve_arguments(task, max(1, min(k, MAX_K)), policy), **_filters(tags, source, min_reward)}
        if include_quarantined:
            arguments["include_quarantined"] = True
        found[policy] = await cases.call(host, cases.RETRIEVE, arguments, RetrievedCases)
    return found


async def browse(
    host: Host, offset: int, limit: int, tags: list[str], source: str | None, min_reward: float | None, trust: str
) -> CasePage:
    arguments = {"offset": max(0, offset), "limit": max(1, min(limit, 200)), "trust": trust, **_filters(tags, source, min_reward)}
    return await cases.call(host, "list_cases", arguments, CasePage)


async def get(host: Host, case: str) -> Case:
    return await cases.call(host, cases.GET, {"case_id": case_id(case)}, Case)


async def provenance(host: Host, case: str) -> CaseProvenance:
    """The tasks that retrieved `case`, newest first, as the bank recorded them (its transitions)."""
    return await cases.call(host, "case_provenance", {"case_id": case_id(case), "limit": PROVENANCE_LIMIT}, CaseProvenance)


async def change(host: Host, case: str, action: str, reward: float | None = None) -> Case | DeleteResult:
    """quarantine, restore, reward (to `reward`) or delete one case."""
    case = case_id(case)
    if action in ("quarantine", "restore"):
        trust = "quarantined" if action == "quarantine" else "trusted"
        return await cases.call(host, cases.UPDATE, {"case_id": case, "trust": trust}, Case)
    if action == "reward":
        if reward is None or not 0 <= reward <= 1:
            raise ConfigError("a reward is a number from 0 to 1")
        return await cases.call(host, cases.UPDATE, {"case_id": case, "reward": reward}, Case)
    if action == "delete":
        return await cases.call(host, "delete_case", {"case_id": case}, DeleteResult)
    raise ConfigError(f"unknown action {action!r}: quarantine, restore, reward or delete")


async def stats(host: Host) -> BankStats:
    return await cases.call(host, cases.STATS, {}, BankStats)

"""The memento-memory MCP server: a thin MCP face over `CaseBank` (tool declarations only)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Literal, TypeVar

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import Field, JsonValue

from memento_memory.cli import COMMANDS, open_bank
from memento_memory.config import BankConfig
from memento_memory.errors import InvalidCaseError
from memento_memory.models import (
    BankStats,
    Case,
    CaseFilters,
    CasePage,
    CaseProvenance,
    DeleteResult,
    RetrievedCases,
    WriteReport,
)
from memento_memory.storage import check_conditional_puts
from memento_memory.validation import check_id
from memento_servers.runtime import ServerSettings, ServerSpec, annotations, main_for, new_server

SUMMARY = "Case memory for agents: retrieve past cases to plan with, write finished tasks as cases."
INSTRUCTIONS = (
    "A bank of past cases (task, plan, answer, reward). Before planning a task, call retrieve_cases: imitate the "
    "positive cases, avoid the mistakes of the negative ones. After finishing, call write_case with the task, plan, "
    "answer, reward and the ids of the cases you retrieved, so the learned policy improves."
)
T = TypeVar("T")


class MemorySettings(ServerSettings, BankConfig):
    """Settings of memento-memory (env MEMENTO_MEMORY_*, TOML [memory])."""


class BankHandle:
    """Opens the bank on first use (LanceDB and torch load slowly), once, and closes it at shutdown."""

    def __init__(self, config: BankConfig):
        self.config = config
        self._bank = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._bank is None:
                self._bank = open_bank(self.config)
            return self._bank

    async def run(self, action: Callable[..., T]) -> T:
        """`action(bank)` in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: action(self.get()))

    def close(self) -> None:
        if self._bank is not None:
            self._bank.close()


CaseId = Annotated[str, Field(description="A case id, as returned by retrieve_cases, write_case or list_cases.")]
Tags = Annotated[list[str], Field(description="Only cases with at least one of these tags (empty: any).")]
Source = Annotated[str | None, Field(description="Only cases with exactly this source (provenance).")]
MinReward = Annotated[float | None, Field(description="Only cases with reward >= this.", ge=0, le=1)]


def build_server(settings: MemorySettings) -> MCPServer:
    check_conditional_puts(settings.database(), settings.storage_options())  # refuse a lossy store at start
    handle = BankHandle(settings.bank_options())
    if settings.local_dir() is None:
        handle.get()  # an object store is reached at start, so a wrong bucket or endpoint fails here in one line

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(handle.close)

    server = new_server("memory", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(title="Retrieve cases", annotations=annotations(read_only=True, open_world=False))
    async def retrieve_cases(
        task: Annotated[str, Field(description="The new task or question you are about to plan.")],
        k: Annotated[int, Field(description="How many cases to return (the paper's best: 4).", ge=1, le=1000)] = 4,
        policy: Annotated[
            Literal["similarity", "learned"],
            Field(
                description="similarity: most similar tasks. learned: re-rank similar cases by predicted usefulness "
                "(similarity's order until the learned scorer predicts outcomes better; see memory_stats scorer.gate)."
            ),
        ] = "similarity",
        tags: Tags = [],  # noqa: B006 (pydantic copies defaults)
        source: Source = None,
        min_reward: MinReward = None,
        include_quarantined: Annotated[bool, Field(description="Also return quarantined (suspect) cases.")] = False,
        exclude_same_task: Annotated[
            bool, Field(description="Skip cases whose task text equals this task (e.g. when evaluating).")
        ] = False,
        exclude_tags: Annotated[
            list[str], Field(description="Skip cases carrying any of these tags (e.g. the evaluated task's own tag).")
        ] = [],  # noqa: B006
        temperature: Annotated[
            float, Field(description="learned policy: > 0 samples cases (exploration); 0 picks the best.", ge=0, le=10)
        ] = 0.0,
    ) -> RetrievedCases:
        """Find past cases to plan a new task with: call it before planning.

        Returns up to k cases split into `positive` (they went well: reuse their plans) and `negative`
        (they failed: avoid their mistakes), each with its id, task, plan, answer, reward and similarity.
        Keep the ids: pass them to write_case as retrieved_case_ids once the task is done.
        An empty bank returns empty lists.
        """
        filters = CaseFilters(
            tags=tags,
            source=source,
            min_reward=min_reward,
            include_quarantined=include_quarantined,
            exclude_task=task if exclude_same_task else None,
            exclude_tags=exclude_tags,
        )
        return await handle.run(lambda bank: bank.retrieve(task, k, policy, filters, temperature))

    @server.tool(title="Write case", annotations=annotations(read_only=False, destructive=False, idempotent=False, open_world=False))
    async def write_case(
        task: Annotated[str, Field(description="The task or question that was worked on.")],
        reward: Annotated[float, Field(description="How it went, 0..1 (1: solved, 0: failed).", ge=0, le=1)],
        plan: Annotated[JsonValue, Field(description="The plan that was followed, any JSON (e.g. {'plan': [steps]}).")] = None,
        answer: Annotated[str | None, Field(description="The final answer given.")] = None,
        outcome: Annotated[str | None, Field(description="Outcome label (default: success or failure from reward).")] = None,
        summary: Annotated[str | None, Field(description="Optional short summary of what happened.")] = None,
        retrieved_case_ids: Annotated[
            list[str], Field(description="Ids of the cases retrieve_cases gave for this task: the learned policy learns from them.")
        ] = [],  # noqa: B006
        source: Annotated[str | None, Field(description="Who writes this case (agent name, user), for provenance.")] = None,
        run_id: Annotated[str | None, Field(description="The run that produced the case, for provenance.")] = None,
        tags: Annotated[list[str], Field(description="Labels to filter on later, e.g. the dataset or domain.")] = [],  # noqa: B006
        case_id: Annotated[
            str | None,
            Field(description="Optional id of your choosing: retrying a write with the same id never stores it twice."),
        ] = None,
    ) -> WriteReport:
        """Store a finished task as a case, once it has an outcome.

        Pass the reward and the retrieved_case_ids from retrieve_cases: this is how the learned
        retrieval policy learns which past cases help. Returns the stored case (with its id), the ids
        newly created and how many learning transitions were recorded. The write is durable on return.
        """
        text = dict(answer=answer, outcome=outcome, summary=summary, source=source, run_id=run_id)
        case = dict(
            task=task, reward=reward, plan=plan, retrieved_case_ids=retrieved_case_ids, tags=tags, id=case_id,
            **{name: value or "" for name, value in text.items()},
        )
        return await handle.run(lambda bank: bank.write([case]))

    @server.tool(title="Update case", annotations=annotations(read_only=False, destructive=True, idempotent=True, open_world=False))
    async def update_case(
        case_id: CaseId,
        reward: Annotated[float | None, Field(description="New reward 0..1 (outcome follows unless given).", ge=0, le=1)] = None,
        outcome: Annotated[str | None, Field(description="New outcome label.")] = None,
        plan: Annotated[JsonValue, Field(description="New plan (omit or null to keep).")] = None,
        answer: Annotated[str | None, Field(description="New answer.")] = None,
        summary: Annotated[str | None, Field(description="New summary.")] = None,
        tags: Annotated[list[str] | None, Field(description="New tags (replace the old ones).")] = None,
        trust: Annotated[
            Literal["trusted", "quarantined"] | None,
            Field(description="quarantined hides a suspect or poisoned case from retrieval; trusted restores it."),
        ] = None,
    ) -> Case:
        """Correct a stored case: its reward or outcome (e.g. after grading), plan, answer, tags, or trust.

        Only the fields you pass change; the task text cannot change (write a new case instead).
        Returns the updated case.
        """
        given = dict(reward=reward, outcome=outcome, plan=plan, answer=answer, summary=summary, tags=tags, trust=trust)
        changes = {name: value for name, value in given.items() if value is not None}
        if not changes:
            raise InvalidCaseError("nothing to update: pass at least one of reward, outcome, plan, answer, summary, tags, trust")
        return await handle.run(lambda bank: bank.update(case_id, **changes))

    @server.tool(title="Delete case", annotations=annotations(read_only=False, destructive=True, idempotent=True, open_world=False))
    async def delete_case(case_id: CaseId) -> DeleteResult:
        """Delete a case for good (prefer update_case with trust='quarantined' to keep it for review).

        Deleting an id that does not exist is not an error: deleted is then false.
        """
        existed = await handle.run(lambda bank: bank.delete([case_id]))
        return DeleteResult(case_id=case_id, deleted=bool(existed))

    @server.tool(title="Get case", annotations=annotations(read_only=True, open_world=False))
    async def get_case(case_id: CaseId) -> Case:
        """Read one case in full by id (also available as the resource memento://cases/{case_id})."""
        return await handle.run(lambda bank: bank.get(case_id))

    @server.tool(title="List cases", annotations=annotations(read_only=True, open_world=False))
    async def list_cases(
        offset: Annotated[int, Field(description="Skip this many cases (from next_offset).", ge=0)] = 0,
        limit: Annotated[int, Field(description="Cases per page.", ge=1, le=200)] = 20,
        tags: Tags = [],  # noqa: B006
        source: Source = None,
        min_reward: MinReward = None,
        trust: Annotated[
            Literal["all", "trusted", "quarantined"], Field(description="Which cases by trust state.")
        ] = "all",
    ) -> CasePage:
        """Browse stored cases, newest first, a page at a time, optionally filtered.

        Returns cases, the total matching and next_offset (null on the last page).
        """
        filters = CaseFilters(tags=tags, source=source, min_reward=min_reward, include_quarantined=trust != "trusted")

        def page(bank) -> CasePage:
            cases = [c for c in bank.list(filters) if trust != "quarantined" or c.trust == "quarantined"]
            end = offset + limit
            return CasePage(
                cases=cases[offset:end], total=len(cases), offset=offset, next_offset=end if end < len(cases) else None
            )

        return await handle.run(page)

    @server.tool(title="Case provenance", annotations=annotations(read_only=True, open_world=False))
    async def case_provenance(
        case_id: CaseId,
        limit: Annotated[int, Field(description="At most this many tasks, newest first.", ge=1, le=500)] = 50,
    ) -> CaseProvenance:
        """Which tasks retrieved a case and the reward each got (its learning transitions), newest first,
        with the run and the case written for each task. A deleted case keeps its history; a case no task
        retrieved has total 0."""
        from memento_memory.history import case_provenance as provenance_of  # numpy and arrow: on first use

        check_id(case_id)
        return await handle.run(lambda bank: provenance_of(bank.store, case_id, limit))

    @server.tool(title="Memory stats", annotations=annotations(read_only=True, open_world=False))
    async def memory_stats() -> BankStats:
        """Counts (cases, trusted, quarantined, positive, negative), the embedding model, the search index
        and the learned policy's training state (steps, transitions, loss)."""
        return await handle.run(lambda bank: bank.stats())

    @server.resource(
        "memento://cases/{case_id}", name="case", title="Case", description="One stored case as JSON.",
        mime_type="application/json",
    )
    async def case_resource(case_id: str) -> str:
        case = await handle.run(lambda bank: bank.get(case_id))
        return case.model_dump_json(indent=2)

    return server


SPEC = ServerSpec(
    name="memory", summary=SUMMARY, settings=MemorySettings, build=build_server, default_port=8715, commands=COMMANDS
)
main = main_for(SPEC)

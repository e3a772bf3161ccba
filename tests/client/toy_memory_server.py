"""A test double of memento-memory: the same `retrieve_cases` and `write_case` parameters and result models
(`memento_memory.models`), without LanceDB or embeddings. Cases live in a JSON file under MEMENTO_HOME;
retrieval ranks by shared words. Run as `python -m tests.client.toy_memory_server`."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import Field, JsonValue

from memento_core.paths import data_dir
from memento_memory.models import Case, RetrievedCase, RetrievedCases, WriteReport
from memento_servers.runtime import ServerSettings, ServerSpec, annotations, main_for, new_server

REWARD_THRESHOLD = 0.5


class ToyMemorySettings(ServerSettings):
    """Settings of the toy case bank."""


def build_server(settings: ToyMemorySettings) -> MCPServer:
    server = new_server("toymemory", instructions="A tiny case bank.")
    store = Path(data_dir()) / "toy_cases.json"
    lock = threading.Lock()  # concurrent tool calls run in threads: no lost or half-read write

    def load() -> list[Case]:
        with lock:
            return [Case.model_validate(c) for c in json.loads(store.read_text())] if store.exists() else []

    @server.tool(title="Retrieve cases", annotations=annotations(read_only=True, open_world=False))
    def retrieve_cases(
        task: Annotated[str, Field(description="The new task.")],
        k: Annotated[int, Field(description="How many cases.", ge=1)] = 4,
        policy: Annotated[Literal["similarity", "learned"], Field(description="Ignored: always shared words.")] = "similarity",
    ) -> RetrievedCases:
        """Past cases sharing words with the task."""
        words = set(task.lower().split())
        scored = sorted(((len(words & set(c.task.lower().split())), c) for c in load()), key=lambda p: -p[0])
        found = [RetrievedCase(**c.model_dump(), similarity=n / len(words)) for n, c in scored if n][:k]
        return RetrievedCases(
            task=task,
            policy=policy,
            positive=[c for c in found if c.reward >= REWARD_THRESHOLD],
            negative=[c for c in found if c.reward < REWARD_THRESHOLD],
            reward_threshold=REWARD_THRESHOLD,
        )

    @server.tool(title="Write case", annotations=annotations(read_only=False, open_world=False))
    def write_case(
        task: Annotated[str, Field(description="The task worked on.")],
        reward: Annotated[float, Field(description="0..1.", ge=0, le=1)],
        plan: Annotated[JsonValue, Field(description="The plan followed.")] = None,
        answer: Annotated[str | None, Field(description="The answer.")] = None,
        retrieved_case_ids: Annotated[list[str], Field(description="Ids of cases used.")] = [],  # noqa: B006
        source: Annotated[str | None, Field(description="Who writes the case.")] = None,
        run_id: Annotated[str | None, Field(description="The run that produced it.")] = None,
    ) -> WriteReport:
        """Store a finished task."""
        now = datetime.now(UTC)
        case = Case(id=uuid.uuid4().hex[:8], task=task, plan=plan, answer=answer or "", reward=reward,
                    source=source or "", run_id=run_id or "", created_at=now, updated_at=now)  # fmt: skip
        store.parent.mkdir(parents=True, exist_ok=True)
        with lock:
            cases = json.loads(store.read_text()) if store.exists() else []
            temporary = store.with_suffix(".tmp")
            temporary.write_text(json.dumps([*cases, case.model_dump(mode="json")]))
            temporary.replace(store)
        return WriteReport(cases=[case], created=[case.id], transitions=len(retrieved_case_ids))

    return server


SPEC = ServerSpec(name="toymemory", summary="Test case bank.", settings=ToyMemorySettings, build=build_server, default_port=8798)
main = main_for(SPEC)

if __name__ == "__main__":
    main()

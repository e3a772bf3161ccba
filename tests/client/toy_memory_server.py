"""A test-only case bank with its own argument names (question/top_k, reward_value): the client must
fill them from the tool schemas. Cases live in a JSON file under MEMENTO_HOME; retrieval ranks by
shared words. Run as `python -m tests.client.toy_memory_server`."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from memento_servers.runtime import ServerSettings, ServerSpec, annotations, main_for, new_server
from memento_core.paths import data_dir


class ToyMemorySettings(ServerSettings):
    """Settings of the toy case bank."""


class Found(BaseModel):
    results: list[dict[str, Any]] = Field(description="Matching cases, best first.")


class Stored(BaseModel):
    case_id: str = Field(description="Id of the stored case.")


def build_server(settings: ToyMemorySettings) -> MCPServer:
    server = new_server("toymemory", instructions="A tiny case bank.")
    store = Path(data_dir()) / "toy_cases.json"
    lock = threading.Lock()  # concurrent tool calls run in threads: no lost or half-read write

    def load() -> list[dict[str, Any]]:
        with lock:
            return json.loads(store.read_text()) if store.exists() else []

    @server.tool(title="Retrieve cases", annotations=annotations(read_only=True, open_world=False))
    def retrieve_cases(
        question: Annotated[str, Field(description="The new question.")],
        top_k: Annotated[int, Field(description="How many cases.", ge=1)] = 4,
    ) -> Found:
        """Past cases sharing words with the question."""
        words = set(question.lower().split())
        scored = [(len(words & set(c["question"].lower().split())), c) for c in load()]
        return Found(results=[c for score, c in sorted(scored, key=lambda p: -p[0]) if score][:top_k])

    @server.tool(title="Write case", annotations=annotations(read_only=False, open_world=False))
    def write_case(
        question: Annotated[str, Field(description="The question worked on.")],
        reward: Annotated[float, Field(description="0..1.")],
        plan: Annotated[list[str], Field(description="The plan's steps.")] = [],  # noqa: B006
        answer: Annotated[str, Field(description="The answer.")] = "",
        retrieved_ids: Annotated[list[str], Field(description="Ids of cases used.")] = [],  # noqa: B006
    ) -> Stored:
        """Store a finished task."""
        case = {"case_id": uuid.uuid4().hex[:8], "question": question, "plan": plan, "answer": answer,
                "reward": reward, "used": retrieved_ids}  # fmt: skip
        store.parent.mkdir(parents=True, exist_ok=True)
        with lock:
            cases = json.loads(store.read_text()) if store.exists() else []
            temporary = store.with_suffix(".tmp")
            temporary.write_text(json.dumps([*cases, case]))
            temporary.replace(store)
        return Stored(case_id=case["case_id"])

    return server


SPEC = ServerSpec(name="toymemory", summary="Test case bank.", settings=ToyMemorySettings, build=build_server, default_port=8798)
main = main_for(SPEC)

if __name__ == "__main__":
    main()

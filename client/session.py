"""Sessions: the MCP servers started (`tool_session`, no model needed), or an agent ready to run on them
(`agent_session`: model endpoint checked too); everything closed on exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from memento_client.config import ClientConfig
from memento_client.llm import LLM
from memento_client.loop.agent import Agent
from memento_client.loop.trajectory import Listener
from memento_client.mcp.config import ServerEntry, load_mcp_config
from memento_client.mcp.host import Host


@asynccontextmanager
async def tool_session(
    config: ClientConfig, *, entries: list[ServerEntry] | None = None, log_dir: Path | None = None
) -> AsyncIterator[Host]:
    entries = entries if entries is not None else load_mcp_config(config.mcp_config)
    async with Host(entries, deny=config.tools_deny, tool_timeout=config.tool_timeout_s, log_dir=log_dir) as host:
        yield host


@asynccontextmanager
async def agent_session(
    config: ClientConfig,
    *,
    entries: list[ServerEntry] | None = None,
    listeners: Sequence[Listener] = (),
    run_id: str | None = None,
    log_dir: Path | None = None,
) -> AsyncIterator[Agent]:
    config.require_models()
    llm = LLM(config)
    try:
        async with tool_session(config, entries=entries, log_dir=log_dir) as host:
            yield Agent(llm, host, config, listeners=listeners, run_id=run_id)
    finally:
        await llm.aclose()

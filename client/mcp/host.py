"""The MCP host: start or connect every server of an mcp.json, list their tools under `server__tool`
names, call them, restart a server that died, and close everything on exit.

    async with Host(entries) as host:
        outcome = await host.call("search__search", {"query": "..."})

Each server lives in its own runner task that holds its `mcp.Client` open until the host
closes (or restarts it), so enter and exit happen in the same task, as anyio requires.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from anyio.abc import TaskStatus
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED

from memento_client.errors import HostError
from memento_client.mcp.config import ServerEntry

log = logging.getLogger(__name__)
_NAME_OK = re.compile(r"[^a-zA-Z0-9_-]")


def qualified_name(server: str, tool: str) -> str:
    """`server__tool`, limited to what OpenAI accepts as a function name ([a-zA-Z0-9_-], 64 chars)."""
    name = _NAME_OK.sub("_", f"{server}__{tool}")
    if len(name) > 64:
        name = name[:55] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]
    return name


def resolve_command(command: str) -> str:
    """A bare `memento-*` command not on PATH is taken from beside the running interpreter."""
    if os.sep in command or shutil.which(command):
        return command
    beside = Path(sys.executable).parent / command
    return str(beside) if beside.exists() else command


def server_environment(entry: ServerEntry) -> dict[str, str]:
    """The user's environment minus the client's model credentials, plus the entry's own variables."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {**inherited, **entry.env}


@dataclass(frozen=True)
class ToolInfo:
    server: str
    name: str
    qualified: str
    description: str
    input_schema: dict[str, Any]

    def openai_tool(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.qualified, "description": self.description[:1024], "parameters": self.input_schema},
        }


@dataclass
class ToolOutcome:
    """A tool call's result as the model will see it."""

    text: str
    is_error: bool
    structured: Any = None
    seconds: float = 0.0
    restarted: bool = False
    images: list[str] = field(default_factory=list)  # the result's MCP image content, as data URIs


def _result_text(result: Any) -> str:
    """The result's text; image blocks are left to `_result_images`, other non-text blocks are named."""
    parts = [block.text for block in result.content if getattr(block, "text", None) is not None]
    others = [block.type for block in result.content if getattr(block, "text", None) is None and block.type != "image"]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    if others:
        parts.append(f"[{len(others)} non-text block(s): {', '.join(others)}]")
    return "\n".join(parts)


def _result_images(result: Any) -> list[str]:
    return [f"data:{block.mime_type};base64,{block.data}" for block in result.content if block.type == "image"]


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


class _Connection:
    """One server held open by a runner task until `stop()`."""

    def __init__(self, entry: ServerEntry, read_timeout: float, log_dir: Path | None):
        self.entry = entry
        self.read_timeout = read_timeout
        self.log_dir = log_dir
        self.client: Client | None = None
        self._stop = anyio.Event()
        self._done = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with AsyncExitStack() as stack:
                self.client = await stack.enter_async_context(self._client(stack))
                task_status.started()
                await self._stop.wait()
        except Exception as exc:  # after start-up a dead server must not take the host down
            if self.client is None:
                raise
            log.warning("MCP server %s stopped: %s", self.entry.name, exc)
        finally:
            self.client = None
            self._done.set()

    def _client(self, stack: AsyncExitStack) -> Client:
        entry = self.entry
        if entry.is_http:
            http = httpx2.AsyncClient(headers=entry.headers, timeout=self.read_timeout)
            stack.push_async_callback(http.aclose)
            return Client(streamable_http_client(entry.url, http_client=http), read_timeout_seconds=self.read_timeout)
        params = StdioServerParameters(
            command=resolve_command(entry.command or ""),
            args=list(entry.args),
            env=server_environment(entry),
            cwd=entry.cwd,
        )
        if self.log_dir is None:
            return Client(stdio_client(params), read_timeout_seconds=self.read_timeout)  # their stderr is ours
        self.log_dir.mkdir(parents=True, exist_ok=True)  # keep the servers' logs out of the user's terminal
        errlog = stack.enter_context((self.log_dir / f"{entry.name}.log").open("a", encoding="utf-8"))
        return Client(stdio_client(params, errlog=errlog), read_timeout_seconds=self.read_timeout)

    async def stop(self) -> None:
        self._stop.set()
        with anyio.move_on_after(15):
            await self._done.wait()


class Host:
    """All configured MCP servers, their tools, and calls to them."""

    def __init__(
        self,
        entries: list[ServerEntry],
        *,
        deny: list[str] | None = None,
        tool_timeout: float = 120.0,
        start_timeout: float = 60.0,
        log_dir: Path | None = None,
    ):
        self.entries = {e.name: e for e in entries}
        self.deny = deny or []
        self.tool_timeout = tool_timeout
        self.start_timeout = start_timeout
        self.log_dir = log_dir  # stdio servers' stderr goes to <log_dir>/<name>.log (None: our stderr)
        self.tools: dict[str, ToolInfo] = {}
        self.failed: dict[str, str] = {}  # servers that would not start: name -> reason
        self.restarts: dict[str, int] = {}
        self._connections: dict[str, _Connection] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Host:
        self._group = await self._stack.enter_async_context(anyio.create_task_group())
        try:
            async with anyio.create_task_group() as starting:
                for name in self.entries:
                    starting.start_soon(self._start_quietly, name)
        except BaseException:
            await self.aclose()
            raise
        if not self._connections and self.entries:
            await self.aclose()
            raise HostError("no MCP server could be started: " + "; ".join(f"{k}: {v}" for k, v in self.failed.items()))
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as stopping:
                for connection in self._connections.values():
                    stopping.start_soon(connection.stop)
            self._connections.clear()
        await self._stack.aclose()

    async def _start_quietly(self, name: str) -> None:
        try:
            await self.start(name)
        except HostError as exc:
            self.failed[name] = str(exc)
            log.warning("%s", exc)

    async def start(self, name: str) -> None:
        """Start (or restart) server `name` and refresh its tools."""
        entry = self.entries[name]
        connection = _Connection(entry, self.tool_timeout, self.log_dir)
        try:
            with anyio.fail_after(self.start_timeout):
                await self._group.start(connection.run)
                assert connection.client is not None
                listing = await connection.client.list_tools()
        except Exception as exc:
            await connection.stop()
            where = entry.url or " ".join([entry.command or "", *entry.args])
            if self.log_dir is not None and not entry.is_http:
                where += f"; its log: {self.log_dir / (name + '.log')}"
            cause = _leaf(exc)
            raise HostError(f"MCP server {name} ({where}) failed to start: {cause or type(cause).__name__}") from exc
        self._connections[name] = connection
        self._locks.setdefault(name, anyio.Lock())
        self.tools = {q: t for q, t in self.tools.items() if t.server != name}
        for tool in listing.tools:
            qualified = qualified_name(name, tool.name)
            if entry.exposes(tool.name) and not any(fnmatch.fnmatch(qualified, p) for p in self.deny):
                description = tool.description or tool.title or tool.name
                self.tools[qualified] = ToolInfo(name, tool.name, qualified, description, dict(tool.input_schema))

    def openai_tools(self) -> list[dict[str, Any]]:
        return [tool.openai_tool() for tool in self.tools.values()]

    def find(self, server: str, tool: str) -> ToolInfo | None:
        return self.tools.get(qualified_name(server, tool))

    async def restart(self, name: str, stale: _Connection | None = None) -> None:
        """Restart `name`; with `stale`, only if that connection is still the current one."""
        async with self._locks[name]:
            if stale is not None and self._connections.get(name) not in (stale, None):
                return  # another call restarted it meanwhile
            old = self._connections.pop(name, None)
            if old is not None:
                await old.stop()
            self.restarts[name] = self.restarts.get(name, 0) + 1
            log.warning("restarting MCP server %s", name)
            await self.start(name)

    async def call(self, qualified: str, arguments: dict[str, Any]) -> ToolOutcome:
        """Call a tool; failures come back as error outcomes, a dead server is restarted once."""
        started = time.monotonic()
        tool = self.tools.get(qualified)
        if tool is None:
            names = ", ".join(sorted(self.tools)) or "none"
            return ToolOutcome(f"unknown tool {qualified!r}; available tools: {names}", True)
        restarted = False
        for attempt in (1, 2):
            connection = self._connections.get(tool.server)
            try:
                if connection is None or connection.client is None:
                    raise MCPError(code=CONNECTION_CLOSED, message="Connection closed")
                with anyio.fail_after(self.tool_timeout):
                    result = await connection.client.call_tool(tool.name, arguments)
            except TimeoutError:
                return ToolOutcome(f"{qualified} timed out after {self.tool_timeout:g}s", True, seconds=time.monotonic() - started)
            except Exception as exc:
                dead = not isinstance(exc, MCPError) or exc.code == CONNECTION_CLOSED
                if dead and attempt == 1:
                    try:
                        await self.restart(tool.server, connection)
                        restarted = True
                        continue
                    except HostError as restart_error:
                        exc = restart_error
                elapsed = time.monotonic() - started
                return ToolOutcome(f"{qualified} failed: {exc or type(exc).__name__}", True, seconds=elapsed, restarted=restarted)
            outcome = ToolOutcome(_result_text(result), bool(result.is_error), result.structured_content, images=_result_images(result))
            outcome.seconds, outcome.restarted = time.monotonic() - started, restarted
            return outcome
        raise AssertionError("unreachable")

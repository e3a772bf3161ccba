"""Helpers every server uses to declare itself and its tools."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from memento_core.errors import MementoError
from memento_core.version import package_version


def annotations(*, read_only: bool, destructive: bool = False, idempotent: bool = False, open_world: bool) -> ToolAnnotations:
    """Tool annotations with every hint stated explicitly, so none is left to a client's guess."""
    return ToolAnnotations(
        read_only_hint=read_only,
        destructive_hint=False if read_only else destructive,
        idempotent_hint=True if read_only else idempotent,
        open_world_hint=open_world,
    )


class ServerInfo(BaseModel):
    """What `server_info` returns."""

    name: str = Field(description="The server's name, e.g. memento-documents.")
    version: str = Field(description="The memento-agent version serving this.")
    transport: str = Field(description="stdio or http.")
    settings: dict[str, Any] = Field(description="The effective settings and limits, secrets masked.")


def add_server_info(server: MCPServer, info: ServerInfo) -> None:
    """Register the harmless `server_info` tool that every memento server has."""

    def server_info() -> ServerInfo:
        """Describe this server: its name, version, transport and the limits it enforces.

        Use it to learn the configured limits (sizes, timeouts, roots) before a call that may hit them.
        """
        return info

    server.add_tool(
        server_info,
        title="Server info",
        annotations=annotations(read_only=True, open_world=False),
        structured_output=True,
    )


def reporting_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` with every `MementoError` it raises turned into an MCP tool error.

    This is the one place domain errors meet MCP: the model reads the error's message in an
    `isError` result. Anything else escaping a tool stays a crash, logged with its traceback.
    """
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except MementoError as exc:
                raise ToolError(str(exc)) from exc

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MementoError as exc:
            raise ToolError(str(exc)) from exc

    return call


class MementoServer(MCPServer):
    """An `MCPServer` whose tools report `MementoError`s as tool errors and are described by
    their docstrings with the indentation removed."""

    def add_tool(self, fn: Callable[..., Any], *args: Any, description: str | None = None, **kwargs: Any) -> None:
        description = description or inspect.cleandoc(fn.__doc__ or "")
        super().add_tool(reporting_errors(fn), *args, description=description, **kwargs)


def new_server(name: str, instructions: str, **kwargs: Any) -> MCPServer:
    """A server named `memento-<name>` at this package's version."""
    return MementoServer(f"memento-{name}", version=package_version(), instructions=instructions, **kwargs)

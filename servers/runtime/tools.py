"""Helpers every server uses to declare itself and its tools."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field


def package_version() -> str:
    try:
        return version("memento-mcp")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


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
    version: str = Field(description="The memento-mcp version serving this.")
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


class MementoServer(MCPServer):
    """An `MCPServer` whose tool descriptions are docstrings with their indentation removed."""

    def add_tool(self, fn: Callable[..., Any], *args: Any, description: str | None = None, **kwargs: Any) -> None:
        super().add_tool(fn, *args, description=description or inspect.cleandoc(fn.__doc__ or ""), **kwargs)


def new_server(name: str, instructions: str, **kwargs: Any) -> MCPServer:
    """A server named `memento-<name>` at this package's version."""
    return MementoServer(f"memento-{name}", version=package_version(), instructions=instructions, **kwargs)

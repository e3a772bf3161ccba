"""The memento-memory MCP server: a thin MCP face over the case bank."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from memento_servers.runtime import ServerSettings, ServerSpec, main_for, new_server


class MemorySettings(ServerSettings):
    """Settings of memento-memory (env MEMENTO_MEMORY_*, TOML [memory])."""


def build_server(settings: MemorySettings) -> MCPServer:
    return new_server("memory", instructions="Case memory: retrieve and write past cases.")


SPEC = ServerSpec(
    name="memory", summary="Case memory for agents.", settings=MemorySettings, build=build_server, default_port=8715
)
main = main_for(SPEC)

"""The memento-search MCP server: tool declarations only."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from memento_servers.runtime import ServerSettings, ServerSpec, main_for, new_server


class SearchSettings(ServerSettings):
    """Settings of memento-search (env MEMENTO_SEARCH_*, TOML [search])."""


def build_server(settings: SearchSettings) -> MCPServer:
    return new_server("search", instructions="Web and local-corpus search.")


SPEC = ServerSpec(name="search", summary="Web and local-corpus search.", settings=SearchSettings, build=build_server, default_port=8711)
main = main_for(SPEC)

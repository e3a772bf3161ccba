"""The memento-code MCP server: tool declarations only."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from memento_servers.runtime import ServerSettings, ServerSpec, main_for, new_server


class CodeSettings(ServerSettings):
    """Settings of memento-code (env MEMENTO_CODE_*, TOML [code])."""


def build_server(settings: CodeSettings) -> MCPServer:
    return new_server("code", instructions="Run Python and shell commands in a sandbox.")


SPEC = ServerSpec(name="code", summary="Run Python and shell commands in a sandbox.", settings=CodeSettings, build=build_server, default_port=8714)
main = main_for(SPEC)

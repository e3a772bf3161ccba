"""The memento-documents MCP server: tool declarations only."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from memento_servers.runtime import ServerSettings, ServerSpec, main_for, new_server


class DocumentsSettings(ServerSettings):
    """Settings of memento-documents (env MEMENTO_DOCUMENTS_*, TOML [documents])."""


def build_server(settings: DocumentsSettings) -> MCPServer:
    return new_server("documents", instructions="Read documents (PDF, office, HTML, archives...) as paginated markdown.")


SPEC = ServerSpec(name="documents", summary="Read documents (PDF, office, HTML, archives...) as paginated markdown.", settings=DocumentsSettings, build=build_server, default_port=8713)
main = main_for(SPEC)

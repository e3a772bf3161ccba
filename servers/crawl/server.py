"""The memento-crawl MCP server: tool declarations only."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from memento_servers.runtime import ServerSettings, ServerSpec, main_for, new_server


class CrawlSettings(ServerSettings):
    """Settings of memento-crawl (env MEMENTO_CRAWL_*, TOML [crawl])."""


def build_server(settings: CrawlSettings) -> MCPServer:
    return new_server("crawl", instructions="Fetch web pages as clean, paginated markdown.")


SPEC = ServerSpec(name="crawl", summary="Fetch web pages as clean, paginated markdown.", settings=CrawlSettings, build=build_server, default_port=8712)
main = main_for(SPEC)

"""The MCP side of the client: mcp.json read into server entries, and the host that starts, calls and restarts the servers."""

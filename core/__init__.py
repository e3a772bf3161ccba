"""memento_core: the MCP-free foundation every memento package shares.

Paths, layered settings, the version, sentence embeddings, the SSRF-safe fetcher and its
address guard, and the error base classes. Nothing here imports `mcp`, so the case bank
and the client can use it without pulling in a server.
"""

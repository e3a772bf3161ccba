"""memento_core: the MCP-free foundation every memento package shares.

Paths, layered settings, the version, sentence embeddings, the SSRF-safe fetcher and its
address guard, the error base classes, and storage helpers: the disk cache (`cache`), an LRU
map (`lru`), sizes in MiB (`units`), and the in-memory vector mirror shared by search and the
case bank (`mirror`, on `vector_index` and `vectors`). Nothing here imports `mcp`, so the case
bank and the client can use it without pulling in a server.
"""

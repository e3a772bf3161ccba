"""The one runtime all memento servers share: CLI, transports, auth and tool registration.

A server is a `ServerSpec` (name, settings model, `build(settings) -> MCPServer`); its
console script is `main_for(SPEC)`. Everything without MCP in it (paths, settings loading,
errors, the fetcher, embeddings) lives in `memento_core`.
"""

from memento_core.settings import ServerSettings
from memento_servers.runtime.cli import Command, ServerSpec, main_for, run
from memento_servers.runtime.tools import annotations, new_server

__all__ = ["Command", "ServerSettings", "ServerSpec", "annotations", "main_for", "new_server", "run"]

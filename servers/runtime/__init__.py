"""The one runtime all memento servers share: CLI, settings, transports, auth, tool helpers.

A server is a `ServerSpec` (name, settings model, `build(settings) -> MCPServer`); its
console script is `main_for(SPEC)`.
"""

from memento_servers.runtime.cli import Command, ServerSpec, main_for, run
from memento_servers.runtime.errors import ConfigError, FetchError, ToolError
from memento_servers.runtime.settings import ServerSettings
from memento_servers.runtime.tools import annotations, new_server, package_version

__all__ = [
    "Command",
    "ConfigError",
    "FetchError",
    "ServerSettings",
    "ServerSpec",
    "ToolError",
    "annotations",
    "main_for",
    "new_server",
    "package_version",
    "run",
]

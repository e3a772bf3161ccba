"""Errors of the shared runtime.

    Exception
    ├── ConfigError        bad flags, environment or config file: printed, exit status 2
    └── ToolError (SDK)    a tool's anticipated failure: an `isError` result the model can act on
        └── FetchError     the SSRF-safe fetcher refused or failed a request
"""

from __future__ import annotations

from mcp.server.mcpserver.exceptions import ToolError

__all__ = ["ConfigError", "FetchError", "ToolError"]


class ConfigError(Exception):
    """The server cannot start with this configuration; the message says what to change."""


class FetchError(ToolError):
    """A URL was refused (policy) or could not be fetched; the message names the cause."""

    def __init__(self, message: str, *, kind: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status

"""The error rule every memento package follows.

Domain code raises plain exceptions derived from `MementoError`, with a message written
for whoever called: a user at a terminal or a model reading a tool result. It never
raises an MCP type. The runtime turns a `MementoError` escaping a tool into an MCP tool
error (an `isError` result) in exactly one place, where it registers tools; anything
else escaping a tool is a bug and is reported as such.

    Exception
    └── MementoError       an anticipated failure; the message says what to change
        ├── ConfigError    bad flags, environment or config file: printed, exit status 2
        └── FetchError     the SSRF-safe fetcher refused or failed a request
"""

from __future__ import annotations


class MementoError(Exception):
    """An anticipated failure; `str(error)` is safe to show to a user or a model."""

    def __str__(self) -> str:  # a KeyError subclass would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ConfigError(MementoError):
    """Cannot run with this configuration; the message says what to change."""


class FetchError(MementoError):
    """A URL was refused (policy) or could not be fetched; the message names the cause."""

    def __init__(self, message: str, *, kind: str, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status

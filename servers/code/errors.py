"""Errors of memento-code; each reaches the model as an `isError` result it can act on.

    MementoError (memento_core)
    └── CodeError
        ├── SandboxUnavailable   bubblewrap cannot start here: the message names the fix
        ├── SessionError         unknown or closed session, the session cap, a dead session
        └── WorkspaceError       a path outside the workspace, a symlink, a file too large
"""

from __future__ import annotations

from memento_core.errors import MementoError


class CodeError(MementoError):
    """Base of this server's anticipated failures."""


class SandboxUnavailable(CodeError):
    """The sandbox cannot start, so no code runs."""


class SessionError(CodeError):
    """The session asked for cannot run this call."""


class WorkspaceError(CodeError):
    """A file operation was refused or failed inside the workspace."""

"""Settings of memento-code (env `MEMENTO_CODE_*`, TOML `[code]`), read once at start-up."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from memento_core.settings import ServerSettings


class CodeSettings(ServerSettings):
    """Limits of the sandbox and its sessions."""

    unsafe_no_sandbox: bool = Field(
        False, description="Run code WITHOUT the bubblewrap sandbox (full access to this machine). Never for untrusted input."
    )
    bwrap: str = Field("bwrap", description="The bubblewrap executable.")
    python: Path | None = Field(
        None, description="Python interpreter of the sessions (default: the server's own, with numpy/pandas/matplotlib)."
    )
    workspace_root: Path | None = Field(
        None, description="Folder that holds the session workspaces (default: a private temp folder, removed on exit)."
    )
    cgroups: bool = Field(
        True,
        description="Cap processes and memory per session with cgroups when this server may create them "
        "(otherwise a root server runs sandboxes as an unprivileged uid so the process cap still holds).",
    )
    max_sessions: int = Field(8, ge=1, le=256, description="Concurrent sessions at most.")
    idle_timeout_s: float = Field(1800, gt=0, description="A session unused this long is closed and its files removed.")
    warm_kernels: int = Field(1, ge=0, le=4, description="Python sessions started ahead of use, so a new session answers fast.")
    default_timeout_s: float = Field(30, gt=0, description="Wall-clock limit of one call when the caller gives none.")
    max_timeout_s: float = Field(600, gt=0, description="Largest wall-clock limit a caller may ask for.")
    memory_mb: int = Field(4096, ge=256, description="Memory cap in MiB (per process; per session too where cgroups are usable).")
    cpu_s: int = Field(600, ge=1, description="CPU seconds a session's Python process may use in its lifetime.")
    max_processes: int = Field(64, ge=4, description="Processes a session may run at once (the fork-bomb cap).")
    max_file_mb: int = Field(100, ge=1, description="Largest file a session may write, in MiB.")
    workspace_mb: int = Field(500, ge=1, description="Total size of one session's workspace, in MiB.")
    max_output_chars: int = Field(20_000, ge=1000, description="stdout/stderr/value kept per call; the rest is cut with a marker.")
    max_read_chars: int = Field(100_000, ge=1000, description="Largest slice read_file returns in one call.")

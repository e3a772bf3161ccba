"""What the tools return (each becomes an outputSchema)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SessionState = Literal["idle", "busy", "no_kernel", "dead", "closed"]


class RunError(BaseModel):
    type: str = Field(description="Exception class, e.g. ZeroDivisionError, or Timeout / SessionDied / WorkspaceLimit.")
    message: str = Field(description="The exception's message.")
    traceback: str = Field("", description="The traceback, trimmed to the frames in your code.")


class RunResult(BaseModel):
    session_id: str = Field(description="Pass it back to keep using the same variables and files.")
    stdout: str = Field(description="Printed output (cut at the configured size, with a marker).")
    stderr: str = Field(description="Error output and warnings.")
    value: str | None = Field(None, description="repr of the last expression, if the code ended with one.")
    error: RunError | None = Field(None, description="Set when the code raised, timed out or broke a limit.")
    files_created: list[str] = Field(description="Workspace files created or modified by this call.")
    images: int = Field(0, description="Figures returned as image content beside this result (matplotlib).")
    duration_ms: float = Field(description="Wall-clock time of the call.")
    session_state: SessionState = Field(description="dead: Python was killed; reset_session revives it.")
    quota: str | None = Field(None, description="Set when a write hit the disk quota: what is full and how to make room.")


class ShellResult(BaseModel):
    session_id: str = Field(description="The session whose workspace the command ran in.")
    exit_code: int | None = Field(description="The command's exit status (negative: killed by that signal).")
    stdout: str = Field(description="Standard output (cut at the configured size, with a marker).")
    stderr: str = Field(description="Standard error.")
    stopped: str | None = Field(description="Why the command was killed (timeout or disk limit); null if it ended.")
    files_created: list[str] = Field(description="Workspace files created or modified by the command.")
    duration_ms: float = Field(description="Wall-clock time of the call.")
    quota: str | None = Field(None, description="Set when a write hit the disk quota: what is full and how to make room.")


class FileWritten(BaseModel):
    session_id: str = Field(description="The session whose workspace holds the file.")
    path: str = Field(description="The file's path relative to the workspace (/workspace/<path> inside the code).")
    size: int = Field(description="The file's size in bytes after the write.")


class FileContent(BaseModel):
    session_id: str
    path: str
    content: str = Field(description="The slice read: text, or base64 when encoding is base64.")
    encoding: Literal["text", "base64"]
    offset: int = Field(description="Byte offset of this slice.")
    size: int = Field(description="The file's total size in bytes.")
    next_offset: int | None = Field(description="Pass as offset to read on; null at the end of the file.")


class FileEntry(BaseModel):
    path: str
    kind: Literal["file", "dir", "symlink", "other"]
    size: int


class FileList(BaseModel):
    session_id: str
    entries: list[FileEntry]
    total_bytes: int = Field(description="Total size of the files listed.")
    limit_bytes: int = Field(description="The workspace's size limit.")
    note: str | None = Field(None, description="What the listing left out (too many entries, folders nested too deep).")


class SessionInfo(BaseModel):
    session_id: str
    state: SessionState
    dead_reason: str | None = Field(None, description="Why Python stopped, when state is dead.")
    calls: int = Field(description="run_python/run_shell calls so far.")
    idle_s: float = Field(description="Seconds since the last call.")
    workspace_bytes: int


class SessionList(BaseModel):
    sessions: list[SessionInfo]
    max_sessions: int
    idle_timeout_s: float
    sandboxed: bool = Field(description="False only when the server runs with --unsafe-no-sandbox.")
    session_caps: Literal["cgroups", "unprivileged_uid", "rlimits"] = Field(
        description="How the process and memory caps hold: per session (cgroups), or through per-process "
        "rlimits (run as an unprivileged host uid when the server is root)."
    )
    disk_quota: Literal["enforced", "polled"] = Field(
        description="enforced: each session's folder is a size-capped tmpfs, so writes past the limit fail; "
        "polled: a call that overfills the workspace is stopped within about a second."
    )

"""The work behind each tool, callable without MCP: sessions in, result models out."""

from __future__ import annotations

import base64
import time

from memento_servers.code.config import CodeSettings
from memento_servers.code.errors import SessionError, WorkspaceError
from memento_servers.code.kernel import Execution
from memento_servers.code.models import (
    FileContent,
    FileEntry,
    FileList,
    FileWritten,
    RunError,
    RunResult,
    SessionInfo,
    SessionList,
    ShellResult,
)
from memento_servers.code.quota import full, mounted_usage
from memento_servers.code.sessions import Session, SessionManager
from memento_servers.code.shell import run_shell
from memento_servers.code.workspace import MAX_FILES, changed_files, tree_usage

NO_SPACE = "No space left on device"


class CodeService:
    def __init__(self, settings: CodeSettings, sessions: SessionManager):
        self.settings = settings
        self.sessions = sessions

    def timeout(self, requested: float | None) -> float:
        if requested is None:
            return self.settings.default_timeout_s
        if requested > self.settings.max_timeout_s:
            raise SessionError(f"timeout_s may be at most {self.settings.max_timeout_s:g} s on this server")
        return requested

    @staticmethod
    def _usage(session: Session) -> tuple[int, int]:
        """Bytes and entries the session holds on disk (its socket folder counts too)."""
        if session.quota:
            return mounted_usage(session.disk)
        files_bytes, files = tree_usage(session.workspace.root)
        sockets_bytes, sockets = tree_usage(session.sockets)
        return files_bytes + sockets_bytes, files + sockets

    def _over_quota(self, session: Session, floor: int = 0) -> str | None:
        """Why the session's disk use breaks its limit (or grew past `floor`, if that is higher), or None.
        A session with an enforced quota cannot break it."""
        if session.quota:
            return None
        used, entries = self._usage(session)
        if used > max(session.workspace.max_bytes, floor):
            return f"workspace holds {used} bytes, over its {session.workspace.max_bytes}-byte limit"
        if entries > MAX_FILES:
            return f"workspace holds over {MAX_FILES} files and folders, over its limit"
        return None

    def _quota_note(self, session: Session, texts: list[str]) -> str | None:
        """A note for the model when the call ran out of disk: the limit, how to make room, how to raise it."""
        if not any(NO_SPACE in text for text in texts) and not (session.quota and full(session.disk)):
            return None
        return (
            f"disk quota hit: the workspace and /tmp hold {self.settings.workspace_mb} MiB each, and writes past "
            f"that fail with '{NO_SPACE}'. Delete files (run_shell 'rm -rf ...') or call reset_session with "
            "clear_files=true; the server's operator can raise the quota with --workspace-mb (MEMENTO_CODE_WORKSPACE_MB)."
        )

    @staticmethod
    def _still_open(session: Session) -> None:
        if session.dead == "closed":
            raise SessionError(f"session {session.id} was closed while this call ran; its files are gone")

    async def run_python(self, code: str, session_id: str | None, timeout_s: float | None) -> tuple[RunResult, list[str]]:
        """Run `code`; returns the result and the base64 PNG figures it drew."""
        timeout = self.timeout(timeout_s)
        session = self.sessions.get(session_id, warm=True)
        async with session.lock:
            if quota := self._over_quota(session):
                raise SessionError(f"{quota}: delete files (run_shell 'rm ...') or reset_session with clear_files")
            kernel = await self.sessions.kernel_for(session)
            started = time.perf_counter()
            before = session.workspace.snapshot()
            session.busy = True
            try:
                execution = await kernel.execute(
                    code, timeout_s=timeout, limit=self.settings.max_output_chars, check=lambda: self._over_quota(session)
                )
            finally:
                session.busy = False
                session.calls += 1
                session.touch()
            self._still_open(session)
            if execution.died and session.kernel is kernel:
                self.sessions.mark_dead(session, execution.died)
            elif execution.died:
                execution.died = "reset_session restarted Python during this call"
            collected = execution.collected
            result = RunResult(
                session_id=session.id,
                stdout=collected.stdout.render(),
                stderr=collected.stderr.render(),
                value=collected.value,
                error=run_error(execution, session.id),
                files_created=changed_files(before, session.workspace.snapshot()),
                images=len(collected.images),
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                session_state=session.state,
            )
            texts = [result.stdout, result.stderr, *([result.error.message, result.error.traceback] if result.error else [])]
            result.quota = self._quota_note(session, texts)
            return result, collected.images

    async def run_shell(self, command: str, session_id: str | None, timeout_s: float | None) -> ShellResult:
        timeout = self.timeout(timeout_s)
        session = self.sessions.get(session_id)
        before = session.workspace.snapshot()
        floor = self._usage(session)[0]  # a session over its limit may still run `rm`, but not grow
        session.busy = True
        try:
            outcome = await run_shell(
                self.sessions.sandbox, command, workspace=session.workspace.root, wrap=session.wrap,
                timeout_s=timeout, limit=self.settings.max_output_chars,
                check=lambda: self._over_quota(session, floor),
            )  # fmt: skip
        finally:
            session.busy = False
            session.calls += 1
            session.touch()
        self._still_open(session)
        return ShellResult(
            session_id=session.id,
            exit_code=outcome.exit_code,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            stopped=outcome.stopped,
            files_created=changed_files(before, session.workspace.snapshot()),
            duration_ms=outcome.duration_ms,
            quota=self._quota_note(session, [outcome.stdout, outcome.stderr]),
        )

    def write_file(self, path: str, content: str, session_id: str | None, encoding: str, append: bool) -> FileWritten:
        data = content.encode() if encoding == "text" else _decode_base64(content)
        session = self.sessions.get(session_id)
        size = session.workspace.write(path, data, append=append)
        return FileWritten(session_id=session.id, path=path, size=size)

    def read_file(self, path: str, session_id: str, offset: int, max_chars: int | None, encoding: str) -> FileContent:
        session = self.sessions.get(session_id, create=False)
        limit = min(max_chars or self.settings.max_read_chars, self.settings.max_read_chars)
        data, size = session.workspace.read(path, offset=offset, limit=limit)
        if encoding == "base64":
            content = base64.b64encode(data).decode()
        else:
            content = data.decode("utf-8", errors="ignore" if offset + len(data) < size else "strict")
            if "\x00" in content:
                raise WorkspaceError(f"{path!r} looks binary: read it with encoding='base64' or inspect it with run_python")
        end = offset + len(data)
        return FileContent(
            session_id=session.id, path=path, content=content, encoding=encoding, offset=offset, size=size,
            next_offset=end if end < size else None,
        )  # fmt: skip

    def list_files(self, session_id: str, path: str, recursive: bool) -> FileList:
        session = self.sessions.get(session_id, create=False)
        entries, note = session.workspace.entries(path, recursive=recursive)
        return FileList(
            session_id=session.id,
            entries=[FileEntry(path=e.path, kind=e.kind, size=e.size) for e in entries],  # type: ignore[arg-type]
            total_bytes=sum(e.size for e in entries if e.kind == "file"),
            limit_bytes=session.workspace.max_bytes,
            note=note,
        )

    def describe(self, session: Session) -> SessionInfo:
        return SessionInfo(
            session_id=session.id,
            state=session.state,  # type: ignore[arg-type]
            dead_reason=session.dead,
            calls=session.calls,
            idle_s=round(time.monotonic() - session.last_used, 1),
            workspace_bytes=session.workspace.size(),
        )

    def reset(self, session_id: str, clear_files: bool) -> SessionInfo:
        session = self.sessions.get(session_id, create=False)
        self.sessions.reset(session, clear_files=clear_files)
        return self.describe(session)

    def close(self, session_id: str) -> SessionInfo:
        session = self.sessions.get(session_id, create=False)
        info = self.describe(session)
        self.sessions.close(session_id)
        return info.model_copy(update={"state": "closed"})

    def list(self) -> SessionList:
        return SessionList(
            sessions=[self.describe(s) for s in self.sessions.sessions.values()],
            max_sessions=self.settings.max_sessions,
            idle_timeout_s=self.settings.idle_timeout_s,
            sandboxed=self.sessions.sandbox.isolated,
            session_caps=self.sessions.caps,
            disk_quota="enforced" if self.sessions.mountable else "polled",
        )


def run_error(execution: Execution, session_id: str) -> RunError | None:
    """The error to report: the session's death, a stop (timeout or limit), or what the code raised."""
    if execution.died:
        return RunError(
            type="SessionDied",
            message=f"Python was stopped: {execution.died}. Variables are lost, files are kept; "
            f"a dead session needs reset_session('{session_id}').",
        )
    raised = execution.collected.error
    if execution.stopped:  # the traceback, if any, is the KeyboardInterrupt's: where the code was stopped
        kind = "Timeout" if execution.timed_out else "LimitExceeded"
        where = raised.traceback if raised else ""
        return RunError(type=kind, message=f"stopped: {execution.stopped}; variables are kept", traceback=where)
    return RunError(type=raised.type, message=raised.message, traceback=raised.traceback) if raised else None


def _decode_base64(content: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except ValueError:
        raise WorkspaceError("content is not valid base64: send encoding='text' for text") from None

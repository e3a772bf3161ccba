"""The memento-code MCP server: tool declarations only (the work is in `service`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from memento_servers.code.config import CodeSettings
from memento_servers.code.models import (
    FileContent,
    FileList,
    FileWritten,
    RunResult,
    SessionInfo,
    SessionList,
    ShellResult,
)
from memento_servers.code.quota import private_mounts
from memento_servers.code.sandbox import Limits, build_sandbox
from memento_servers.code.service import CodeService
from memento_servers.code.sessions import SessionManager
from memento_servers.runtime import ServerSpec, annotations, main_for, new_server

INSTRUCTIONS = (
    "Run Python (a persistent IPython session: variables, imports and files survive between calls) and shell "
    "commands in a sandbox with no network, no access to this machine's files and fixed CPU/memory/disk limits. "
    "numpy, pandas, matplotlib and openpyxl are installed. Files live in the session's workspace (/workspace); "
    "move data in and out with write_file / read_file."
)

SessionId = Annotated[
    str | None,
    Field(
        description="A session_id from an earlier call, to keep its variables and files; omit to start a new "
        "session (beyond the server's session limit, the one idle longest is closed)."
    ),
]
ExistingSession = Annotated[str, Field(description="The session_id returned by run_python, run_shell or write_file.")]
Timeout = Annotated[
    float | None, Field(description="Wall-clock limit in seconds (default and maximum: see server_info).", gt=0)
]
WorkspacePath = Annotated[
    str, Field(description="Path relative to the workspace (e.g. data/table.csv); /workspace/... also accepted.")
]


def build_server(settings: CodeSettings) -> MCPServer:
    private_mounts()  # before any thread starts: quota mounts then die with this server (see quota.py)
    limits = Limits(
        settings.memory_mb, settings.cpu_s, settings.max_processes, settings.max_file_mb, tmp_mb=settings.workspace_mb
    )
    sandbox = build_sandbox(
        unsafe=settings.unsafe_no_sandbox, bwrap=settings.bwrap, python=settings.python, limits=limits
    )

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[CodeService]:
        manager = SessionManager(settings, sandbox)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(manager.run)
                yield CodeService(settings, manager)
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await manager.close_all()

    server = new_server("code", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(title="Run Python", annotations=annotations(read_only=False, destructive=True, open_world=False))
    async def run_python(
        ctx: Context,
        code: Annotated[str, Field(description="Python source; IPython syntax works. The last expression's value is returned.")],
        session_id: SessionId = None,
        timeout_s: Timeout = None,
    ) -> Annotated[CallToolResult, RunResult]:
        """Run Python code in a persistent sandboxed session and return its output.

        Use it to compute, parse files, transform data or plot. Variables, imports and files persist across
        calls with the same session_id; omit session_id to start fresh. Returns stdout, stderr, the last
        expression's value, an error (type, message, traceback of your code), files created in /workspace,
        and matplotlib figures as images. No network; the timeout stops runaway code (variables are kept when
        the interrupt works; otherwise the session is 'dead' until reset_session). Long output is cut: write
        it to a file and page it with read_file.
        """
        result, images = await service(ctx).run_python(code, session_id, timeout_s)
        content: list[TextContent | ImageContent] = [TextContent(type="text", text=result.model_dump_json())]
        content += [ImageContent(type="image", data=png, mime_type="image/png") for png in images]
        return CallToolResult(content=content, structured_content=result.model_dump(mode="json"))

    @server.tool(title="Run shell command", annotations=annotations(read_only=False, destructive=True, open_world=False))
    async def run_shell(
        ctx: Context,
        command: Annotated[str, Field(description="A /bin/sh command line, run in /workspace.")],
        session_id: SessionId = None,
        timeout_s: Timeout = None,
    ) -> ShellResult:
        """Run a shell command in the session's sandbox and workspace (same files as run_python).

        Use it for command-line tools (ls, grep, sort, unzip, python scripts). Returns exit code, stdout and
        stderr. Each call is a fresh process: shell state (cd, variables) does not persist; files do. No network.
        """
        return await service(ctx).run_shell(command, session_id, timeout_s)

    @server.tool(title="Write file", annotations=annotations(read_only=False, destructive=True, open_world=False))
    def write_file(
        ctx: Context,
        path: WorkspacePath,
        content: Annotated[str, Field(description="The file's content: text, or base64 when encoding is base64.")],
        session_id: SessionId = None,
        encoding: Annotated[Literal["text", "base64"], Field(description="How content is given.")] = "text",
        append: Annotated[bool, Field(description="Append instead of replacing the file.")] = False,
    ) -> FileWritten:
        """Create or overwrite a file in the session's workspace, e.g. data for run_python to read.

        Folders are created as needed. Paths outside the workspace and symlinks are refused; files above the
        size limit and writes that would overfill the workspace are refused (see server_info for limits).
        """
        return service(ctx).write_file(path, content, session_id, encoding, append)

    @server.tool(title="Read file", annotations=annotations(read_only=True, open_world=False))
    def read_file(
        ctx: Context,
        path: WorkspacePath,
        session_id: ExistingSession,
        offset: Annotated[int, Field(description="Byte offset to start at (next_offset of the previous read).", ge=0)] = 0,
        max_chars: Annotated[int | None, Field(description="Bytes to read at most (capped by the server).", ge=1)] = None,
        encoding: Annotated[Literal["text", "base64"], Field(description="text (UTF-8) or base64 for binary files.")] = "text",
    ) -> FileContent:
        """Read a file from the session's workspace, e.g. a result file written by run_python.

        Large files come in slices: pass next_offset as offset to continue. Binary files need encoding='base64'.
        """
        return service(ctx).read_file(path, session_id, offset, max_chars, encoding)

    @server.tool(title="List files", annotations=annotations(read_only=True, open_world=False))
    def list_files(
        ctx: Context,
        session_id: ExistingSession,
        path: Annotated[str, Field(description="Folder inside the workspace to list.")] = ".",
        recursive: Annotated[bool, Field(description="Include the contents of sub-folders.")] = True,
    ) -> FileList:
        """List the files in the session's workspace with their sizes, and the workspace's size limit."""
        return service(ctx).list_files(session_id, path, recursive)

    restarts = annotations(read_only=False, destructive=True, idempotent=True, open_world=False)

    @server.tool(title="Reset session", annotations=restarts)
    def reset_session(
        ctx: Context,
        session_id: ExistingSession,
        clear_files: Annotated[bool, Field(description="Also delete every file in the workspace.")] = False,
    ) -> SessionInfo:
        """Restart the session's Python: kills everything it runs and forgets all variables.

        Use it when a session is 'dead' (timeout, memory or process limit) or stuck. Files are kept unless
        clear_files is true. The session_id stays valid.
        """
        return service(ctx).reset(session_id, clear_files)

    @server.tool(title="Close session", annotations=annotations(read_only=False, destructive=True, open_world=False))
    def close_session(ctx: Context, session_id: ExistingSession) -> SessionInfo:
        """End a session: stops its processes and deletes its workspace files. Frees a slot for a new session."""
        return service(ctx).close(session_id)

    @server.tool(title="List sessions", annotations=annotations(read_only=True, open_world=False))
    def list_sessions(ctx: Context) -> SessionList:
        """List open sessions with their state (idle, busy, dead...), calls, idle time and workspace size."""
        return service(ctx).list()

    return server


def service(ctx: Context) -> CodeService:
    return ctx.request_context.lifespan_context


SPEC = ServerSpec(
    name="code",
    summary="Run Python and shell commands in a sandbox.",
    settings=CodeSettings,
    build=build_server,
    default_port=8714,
)
main = main_for(SPEC)

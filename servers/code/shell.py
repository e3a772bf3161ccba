"""One shell command in a fresh sandboxed process that shares the session's workspace."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from memento_servers.code.outputs import truncate
from memento_servers.code.processes import kill_tree
from memento_servers.code.sandbox import Sandbox


@dataclass
class ShellOutcome:
    exit_code: int | None
    stdout: str
    stderr: str
    stopped: str | None
    duration_ms: float


async def _drain(stream, sink: bytearray, cap: int) -> None:
    """Read a pipe to its end, keeping at most `cap` bytes (the rest is counted, not stored)."""
    async for chunk in stream:
        room = cap - len(sink)
        if room > 0:
            sink += chunk[:room]


async def _watch(check: Callable[[], str | None], scope: anyio.CancelScope, verdict: list[str]) -> None:
    """Every second, ask `check` whether a limit broke; if so, record why and cancel `scope`."""
    while True:
        await anyio.sleep(1.0)
        if reason := check():
            verdict.append(reason)
            scope.cancel()
            return


async def run_shell(
    sandbox: Sandbox,
    command: str,
    *,
    workspace: Path,
    wrap: Callable[[list[str]], list[str]],
    timeout_s: float,
    limit: int,
    check: Callable[[], str | None] = lambda: None,
) -> ShellOutcome:
    """Run `/bin/sh -c command` in the sandbox; the whole tree is killed at the timeout or when `check`
    names a broken limit."""
    env = sandbox.environment(workspace, {"MPLBACKEND": "Agg"})
    argv = wrap(sandbox.command(["/bin/sh", "-c", command], workspace=workspace, env=env))
    started = time.perf_counter()
    out, err = bytearray(), bytearray()
    verdict: list[str] = []
    process = await anyio.open_process(argv, stdin=subprocess.DEVNULL, cwd=workspace, env={}, start_new_session=True)
    async with process:
        with anyio.move_on_after(timeout_s) as deadline:
            async with anyio.create_task_group() as group:
                group.start_soon(_watch, check, deadline, verdict)
                group.start_soon(_drain, process.stdout, out, limit * 4)
                group.start_soon(_drain, process.stderr, err, limit * 4)
                await process.wait()
                group.cancel_scope.cancel()
        if deadline.cancelled_caught:
            verdict = verdict or [f"timed out after {timeout_s:g} s"]
            kill_tree(process.pid)  # the sandbox's processes die with it (its pid namespace ends)
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await process.wait()
    return ShellOutcome(
        exit_code=process.returncode,
        stdout=truncate(out.decode("utf-8", "replace"), limit),
        stderr=truncate(err.decode("utf-8", "replace"), limit),
        stopped=verdict[0] if verdict else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )

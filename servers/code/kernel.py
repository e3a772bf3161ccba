"""One IPython kernel running inside the sandbox, driven over ZeroMQ ipc sockets.

The sockets live in the session's socket folder, bound into the sandbox at the same path (the
sandbox has no network, so `transport="ipc"` is the way in). Code in the sandbox could swap a
socket for a symlink to some host socket; the client therefore connects once, after checking that
each path is a real socket, and never reconnects.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from memento_servers.code.errors import SessionError
from memento_servers.code.outputs import Collected, LogTail
from memento_servers.code.processes import argv, descendants, kill_strays, kill_tree
from memento_servers.code.sandbox import Sandbox
from memento_servers.code.tree import remove_tree

log = logging.getLogger(__name__)

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
CONNECTION_INSIDE = "/run/memento/kernel.json"
KERNEL_ARGS = ["-m", "ipykernel_launcher"]
KERNEL_FLAGS = ("--HistoryManager.enabled=False", "--InteractiveShell.colors=nocolor", "--IPKernelApp.quiet=True")
POLL_S = 0.25
INTERRUPT_GRACE_S = 2.0


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL `process`, everything below it and its process group."""
    kill_tree(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


@dataclass
class Execution:
    """What one `execute` produced, and whether the kernel survived it."""

    collected: Collected
    stopped: str | None = None  # why the call was stopped: a timeout or a limit
    timed_out: bool = False
    died: str | None = None  # why the kernel is gone, if it is


class Kernel:
    """Start, run code in, interrupt and kill one sandboxed kernel."""

    def __init__(
        self, sandbox: Sandbox, *, workspace: Path, sockets: Path, host: Path, wrap: Callable[[list[str]], list[str]]
    ):
        self.sandbox = sandbox
        self.workspace = workspace
        self.sockets = sockets  # written by the kernel inside the sandbox
        self.host = host  # written by the server only: connection file and log
        self.wrap = wrap  # adds the cgroup joining step, if any
        self.process: subprocess.Popen | None = None
        self.client: Any = None
        self.in_use = False  # a call or the start-up is waiting on the sockets
        self.killed = False  # by this server: a limit, reset_session or close_session
        self.log: LogTail | None = None  # the kernel's own stdout/stderr, bounded

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_reason(self) -> str:
        """Why the kernel stopped, with the tail of its log."""
        status = self.process.poll() if self.process else None
        lines = self.log.lines() if self.log else []
        tail = f"; last output: {' | '.join(lines[-3:])[-400:]}" if lines else ""
        if self.killed:
            return "stopped by this server (reset_session, close_session or shutdown)"
        if status is not None and status < 0:
            return f"killed by {signal.Signals(-status).name} (a memory, CPU or process limit, or code that killed it){tail}"
        return f"exited with status {status}{tail}"

    def _connection(self) -> Path:
        path = self.host / "kernel.json"
        info = {
            "transport": "ipc", "ip": str(self.sockets / "k"), "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
            "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32), "signature_scheme": "hmac-sha256",
            "kernel_name": "",
        }  # fmt: skip
        path.write_text(json.dumps(info))
        return path

    async def start(self, timeout_s: float = 60.0) -> None:
        """Launch the kernel and wait until it answers on both shell and iopub."""
        import zmq
        from jupyter_client.asynchronous import AsyncKernelClient

        remove_tree(self.sockets)  # a previous kernel's sockets would be mistaken for ours
        self.sockets.mkdir()
        self.sandbox.own(self.sockets)
        connection = self._connection()
        inside = CONNECTION_INSIDE if self.sandbox.isolated else str(connection)
        env = self.sandbox.environment(self.workspace, {"MPLBACKEND": INLINE_BACKEND})
        argv = [str(self.sandbox.python), *KERNEL_ARGS, "-f", inside, *KERNEL_FLAGS]
        command = self.wrap(
            self.sandbox.command(
                argv, workspace=self.workspace, env=env, sockets=self.sockets, files={CONNECTION_INSIDE: connection}
            )
        )
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=self.workspace, env={},
        )  # fmt: skip
        self.log = LogTail(self.process.stdout)
        self.in_use = True
        try:
            with anyio.fail_after(timeout_s):
                while True:  # a connect that raced the kernel's listen() is not retried by zmq: connect anew
                    await self._until_listening()
                    self.client = AsyncKernelClient()
                    self.client.load_connection_file(str(connection))
                    self.client.context.setsockopt(zmq.RECONNECT_IVL, -1)
                    self.client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
                    if await self._ready(within_s=5.0):
                        return
                    self._disconnect()
        except TimeoutError:
            self.kill()
            raise SessionError(f"the Python session did not start within {timeout_s:.0f} s; try again") from None
        except BaseException:  # failed, or cancelled mid-start (server shutting down): leave nothing running
            self.kill()
            raise
        finally:
            self.in_use = False
            if not self.alive:
                self._disconnect()

    def _check_alive(self) -> None:
        if not self.alive:
            raise SessionError(f"the Python session failed to start: {self.exit_reason()}")

    async def _until_listening(self) -> None:
        """Wait until the kernel has bound its sockets; refuse anything that is not a socket."""
        paths = [self.sockets / f"k-{port}" for port in (1, 2, 4)]  # shell, iopub, control
        while True:
            self._check_alive()
            try:
                kinds = [os.lstat(path).st_mode for path in paths]
            except FileNotFoundError:
                await anyio.sleep(0.01)
                continue
            if not all(stat.S_ISSOCK(kind) for kind in kinds):
                raise SessionError("the kernel's socket folder holds something other than sockets; reset the session")
            return

    async def _ready(self, within_s: float) -> bool:
        """Whether the kernel answers a kernel_info request, echoed on iopub too, within `within_s`."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            self._check_alive()
            msg_id = self.client.kernel_info()
            try:
                while True:
                    msg = await self.client.get_iopub_msg(timeout=POLL_S)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        await self._shell_reply(msg_id)
                        return True
            except queue.Empty:
                continue
        return False

    async def _shell_reply(self, msg_id: str, timeout_s: float = 2.0) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                reply = await self.client.get_shell_msg(timeout=left)
            except queue.Empty:
                return
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    async def execute(
        self, code: str, *, timeout_s: float, limit: int, check: Callable[[], str | None] = lambda: None
    ) -> Execution:
        """Run `code`; on timeout (or when `check` names a broken limit) interrupt, then kill if needed."""
        result = Execution(Collected(limit))
        if not self.alive:
            result.died = self.exit_reason()
            return result
        self.in_use = True
        try:
            return await self._execute(code, result, timeout_s, check)
        finally:
            self.in_use = False
            if not self.alive:
                self._disconnect()

    def _threads(self) -> set[str]:
        """The thread ids of the kernel's Python process (not the sandbox's launcher around it)."""
        assert self.process is not None
        keeper = [a.encode() for a in KERNEL_ARGS]
        pid = next((p for p in [self.process.pid, *descendants(self.process.pid)] if argv(p)[1 : 1 + len(keeper)] == keeper), None)
        try:
            return set(os.listdir(f"/proc/{pid}/task")) if pid is not None else set()
        except OSError:
            return set()

    async def _execute(
        self, code: str, result: Execution, timeout_s: float, check: Callable[[], str | None]
    ) -> Execution:
        threads = self._threads()  # a stopped call must leave no thread of its own running
        msg_id = self.client.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + timeout_s
        next_check = time.monotonic() + 1.0
        while True:
            now = time.monotonic()
            if now >= next_check:
                result.stopped = check()
                next_check = now + 1.0
            if now >= deadline and result.stopped is None:
                result.stopped, result.timed_out = f"timed out after {timeout_s:g} s", True
            if result.stopped:
                return await self._stop(msg_id, result, threads)
            if await self._next(msg_id, result, min(POLL_S, deadline - now)):
                await self._shell_reply(msg_id)
                return result
            if not self.alive:
                result.died = self.exit_reason()
                self.kill()
                return result

    async def _next(self, msg_id: str, result: Execution, timeout_s: float) -> bool:
        """Take one output message of `msg_id`; True once the kernel reports it idle."""
        try:
            msg = await self.client.get_iopub_msg(timeout=max(timeout_s, 0.001))
        except queue.Empty:
            return False
        if msg["parent_header"].get("msg_id") != msg_id:
            return False
        if msg["msg_type"] == "status":
            return msg["content"].get("execution_state") == "idle"
        result.collected.add(msg["msg_type"], msg["content"])
        return False

    async def _stop(self, msg_id: str, result: Execution, threads: set[str]) -> Execution:
        """Interrupt the running call; kill the kernel if it does not yield within the grace period, or if
        threads the call started still run (an interrupt reaches only the main thread; they cannot be stopped alone)."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        while (left := deadline - time.monotonic()) > 0 and self.alive:
            if await self._next(msg_id, result, min(POLL_S, left)):
                await self._shell_reply(msg_id)
                kill_strays(self.process.pid, [a.encode() for a in KERNEL_ARGS])  # what the call started must not outlive it
                if not self._threads() - threads:
                    return result
                result.died = f"killed after it {result.stopped}: threads it started were still running"
                self.kill()
                return result
        result.died = f"killed after it {result.stopped} and ignored the interrupt"
        self.kill()
        return result

    def _disconnect(self) -> None:
        if self.client is not None:
            self.client.stop_channels()
            self.client.context.destroy(linger=0)
            self.client = None

    def kill(self) -> None:
        """Stop the kernel's whole process tree. The sockets close now, or, while a call or the start-up is
        waiting on them, when that call returns (closing them under a pending wait would crash zmq)."""
        if self.process is not None and self.process.poll() is None:
            self.killed = True
            kill_group(self.process)
        if not self.in_use:
            self._disconnect()

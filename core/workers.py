"""Work on untrusted input in separate, killable processes: a parser that hangs, explodes or crashes cannot take a server down.

A `WorkerPool` keeps warm worker processes (`python -m memento_core.workers OPERATIONS MEMORY_MB`),
each serving one module's `run(op, args, payload) -> (message, data)` over its stdin/stdout with
frames of JSON plus an optional binary payload. A call past the wall-time limit kills its worker,
which is replaced; nothing of the call keeps running. Each worker has an address-space limit and
exits when its server is gone (EOF on its requests when idle; a watchdog thread when busy).

    pool = WorkerPool("memento_servers.documents.operations", WorkerErrors(DocumentError, LimitExceeded, CorruptDocument))
    message, data = await pool.call("convert", {...}, payload)
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

import anyio

from memento_core.errors import MementoError
from memento_core.units import mib

log = logging.getLogger(__name__)

HEADER = struct.Struct(">II")  # json length, payload length
WORKERS = 2  # warm processes per pool, by default
WORKER_MEMORY_MB = 2048  # MiB of address space per worker, by default
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class WorkerErrors:
    """How a pool reports failures: `raised` are the error classes the operations raise (matched by
    name; others come back as `raised` itself), `limit` a call stopped by its time or memory limit,
    `crashed` a worker that died or failed unexpectedly."""

    raised: type[MementoError]
    limit: type[MementoError]
    crashed: type[MementoError]

    def by_name(self, name: str) -> type[MementoError]:
        pending = [self.raised]
        while pending:
            cls = pending.pop()
            if cls.__name__ == name:
                return cls
            pending.extend(cls.__subclasses__())
        return self.raised


def write_frame(stream: BinaryIO, message: dict[str, Any], payload: bytes = b"") -> None:
    body = json.dumps(message).encode()
    stream.write(HEADER.pack(len(body), len(payload)) + body + payload)
    stream.flush()


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> tuple[dict[str, Any], bytes]:
    size, payload_size = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    message = json.loads(_read_exact(fd, size, deadline))
    return message, _read_exact(fd, payload_size, deadline) if payload_size else b""


class Worker:
    """One worker process; `call` blocks, so run it in a thread."""

    def __init__(self, operations: str, memory_mb: int, errors: WorkerErrors):
        self.operations = operations
        self.memory_mb = memory_mb
        self.errors = errors
        self.process: subprocess.Popen | None = None
        self.ready = False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "memento_core.workers", self.operations, str(self.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, close_fds=True,
        )
        self.ready = False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _restart(self) -> None:
        self.stop()
        self.start()

    def call(
        self, op: str, args: dict[str, Any], payload: bytes, timeout_s: float, what: str, advice: str
    ) -> tuple[dict[str, Any], bytes]:
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        out = self.process.stdout.fileno()
        try:
            if not self.ready:
                read_frame(out, time.monotonic() + STARTUP_TIMEOUT_S)
                self.ready = True
            write_frame(self.process.stdin, {"op": op, "args": args}, payload)
            message, data = read_frame(out, time.monotonic() + timeout_s)
        except TimeoutError:
            log.warning("%s exceeded %.1f s; killing its worker %s", what, timeout_s, self.process.pid)
            self._restart()
            raise self.errors.limit(f"{what} took longer than {timeout_s:g} s and was stopped; {advice}") from None
        except (EOFError, BrokenPipeError, OSError, ValueError):
            code = self.process.poll()
            self._restart()
            raise self.errors.crashed(
                f"{what} failed: its worker process died (exit status {code}; memory limit "
                f"{self.memory_mb} MB or a parser crash); the input is likely malformed or too large"
            ) from None
        if "limit" in message:
            raise self.errors.limit(f"{what} {message['limit']}")
        if "crashed" in message:
            raise self.errors.crashed(f"{what} failed: {message['crashed']}")
        if "error" in message:
            raise self.errors.by_name(message["error"])(message["message"])
        return message, data


class WorkerPool:
    """Up to `size` workers running `operations`; each call takes an idle one (waiting if all are busy).

    `start` warms one worker; the others start only when calls overlap, so an idle server
    costs one process. The most recently used worker is taken first, keeping it hot.
    `advice` ends the error of a call stopped at `timeout_s`: what the caller can change.
    """

    def __init__(
        self, operations: str, errors: WorkerErrors, *, size: int = WORKERS, memory_mb: int = WORKER_MEMORY_MB,
        timeout_s: float, advice: str = "raise --timeout-s",
    ):
        self.timeout_s = timeout_s
        self.advice = advice
        self._workers = [Worker(operations, memory_mb, errors) for _ in range(size)]
        self._idle = list(reversed(self._workers))
        self._slots = anyio.Semaphore(size)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._workers[0].start()

    def close(self) -> None:
        for worker in self._workers:
            worker.stop()

    async def call(
        self, op: str, args: dict[str, Any], payload: bytes = b"", *, what: str = "the conversion"
    ) -> tuple[dict[str, Any], bytes]:
        """`run(op, args, payload)` in a worker; `what` names the work in errors ("extracting the page")."""
        async with self._slots:
            with self._lock:
                worker = self._idle.pop()
            try:
                return await anyio.to_thread.run_sync(worker.call, op, args, payload, self.timeout_s, what, self.advice)
            finally:
                with self._lock:
                    self._idle.append(worker)


# ---- the worker process ----------------------------------------------------------------------


def _exit_with_parent(every_s: float = 0.5) -> None:
    """Exit once the server that started this worker is gone (even by SIGKILL), in the middle of a call too.
    (Not PR_SET_PDEATHSIG: it fires when the server *thread* that started the worker ends.)"""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _limit_memory(memory_mb: int) -> None:
    import resource

    limit = mib(memory_mb)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _serve(operations_name: str, memory_mb: int) -> None:
    # the protocol gets private descriptors; stray prints from parsers go to stderr
    requests = os.dup(0)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    _exit_with_parent()
    if memory_mb > 0:
        _limit_memory(memory_mb)
    operations = importlib.import_module(operations_name)  # warm: imports the parsers

    write_frame(replies, {"ready": True})
    while True:
        try:
            request, payload = read_frame(requests)
        except EOFError:
            return
        try:
            message, data = operations.run(request["op"], request["args"], payload)
        except MementoError as exc:
            message, data = {"error": type(exc).__name__, "message": str(exc)}, b""
        except MemoryError:
            message, data = {"limit": f"ran out of memory (limit {memory_mb} MB)"}, b""
        except Exception as exc:  # a parser's unexpected failure on bad input
            log.exception("worker failure")
            message, data = {"crashed": f"{type(exc).__name__}: {exc}"}, b""
        write_frame(replies, message, data)


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    _serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)

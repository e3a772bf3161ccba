"""Serving over stdio: signals stop the server at once, stdin EOF lets it finish what it was asked.

The SDK reads stdin in a worker thread, so a signal cannot stop the server until the client
writes another line, and at EOF requests still in flight are cancelled. Here the pipes are
read and written from the event loop: SIGINT/SIGTERM cancel the server (running its
lifespan cleanup), and EOF is passed on only once every request received has been answered.
"""

from __future__ import annotations

import json
import logging
import os
import signal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

log = logging.getLogger(__name__)


def _claim(fd: int, replacement: int) -> int:
    """Move `fd` to a private non-blocking descriptor and point `fd` at `replacement`, so that
    child processes and stray prints never touch the protocol stream."""
    private = os.dup(fd)
    os.set_blocking(private, False)
    os.dup2(replacement, fd)
    return private


class Wire:
    """The client's pipes, read and written without threads, tracking unanswered request ids."""

    def __init__(self) -> None:
        devnull = os.open(os.devnull, os.O_RDONLY)
        self.stdin = _claim(0, devnull)
        os.close(devnull)
        self.stdout = _claim(1, 2)
        self.buffer = b""
        self.pending: set[object] = set()
        self.answered = anyio.Event()

    # reading: `async for line in wire`
    def __aiter__(self) -> Wire:
        return self

    async def __anext__(self) -> str:
        while b"\n" not in self.buffer:
            await anyio.wait_readable(self.stdin)
            try:
                chunk = os.read(self.stdin, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return await self._end_of_input()
            self.buffer += chunk
        raw, _, self.buffer = self.buffer.partition(b"\n")
        line = raw.decode("utf-8", errors="replace")
        self._note(line, incoming=True)
        return line

    async def _end_of_input(self) -> str:
        if self.buffer:
            line, self.buffer = self.buffer.decode("utf-8", errors="replace"), b""
            self._note(line, incoming=True)
            return line
        while self.pending:
            self.answered = anyio.Event()
            await self.answered.wait()
        raise StopAsyncIteration

    # writing: the AsyncFile subset the SDK uses
    async def write(self, text: str) -> None:
        self._note(text, incoming=False)
        data = memoryview(text.encode("utf-8"))
        while data:
            await anyio.wait_writable(self.stdout)
            try:
                data = data[os.write(self.stdout, data) :]
            except BlockingIOError:
                continue

    async def flush(self) -> None:
        self.answered.set()

    def _note(self, line: str, *, incoming: bool) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        for item in message if isinstance(message, list) else [message]:
            if not isinstance(item, dict):
                continue
            if incoming and item.get("method") == "notifications/cancelled":
                self.pending.discard((item.get("params") or {}).get("requestId"))
                self.answered.set()
            if "id" not in item:
                continue
            if incoming and "method" in item:
                self.pending.add(item["id"])
            elif not incoming and "method" not in item:
                self.pending.discard(item["id"])

    def close(self) -> None:
        os.close(self.stdin)
        os.close(self.stdout)


async def serve_stdio(server: MCPServer) -> None:
    """Serve until stdin reaches EOF (after answering every request) or SIGINT/SIGTERM arrives."""
    wire = Wire()
    try:
        async with anyio.create_task_group() as group:

            async def stop_on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        log.info("received %s, shutting down", signal.Signals(signum).name)
                        group.cancel_scope.cancel()
                        return

            group.start_soon(stop_on_signal)
            lowlevel = server._lowlevel_server  # the SDK's run loop, fed our pipes
            async with stdio_server(stdin=wire, stdout=wire) as (read_stream, write_stream):  # type: ignore[arg-type]
                await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())
            group.cancel_scope.cancel()
    finally:
        wire.close()

"""Serving over stdio: signals stop the server at once, stdin EOF lets it finish what it was asked.

The SDK reads stdin in a worker thread, so a signal cannot stop the server until the client
writes another line, and at EOF requests still in flight are cancelled. Here the pipes are
read and written from the event loop: SIGINT/SIGTERM cancel the server (running its
lifespan cleanup), and EOF is passed on only once every request received has been answered.

Every incoming line is checked before the SDK sees it (the SDK drops a message it cannot parse
without a reply, so the caller would wait forever): a line longer than `MAX_MESSAGE_BYTES`, not
JSON, nested deeper than `MAX_DEPTH`, holding a lone UTF-16 surrogate escape or not a JSON-RPC
message is answered here with a JSON-RPC error, and the next line is served as usual. The error
carries the request's id when a bounded scan of the line's first `ID_SCAN_CHARS` finds a top-level
"id" (a line too long or too deep to parse still names the request it refuses); null only when
it cannot be found.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.types import INVALID_REQUEST, PARSE_ERROR, jsonrpc_message_adapter

from memento_core.settings import ServerSettings
from memento_core.units import mib

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = mib(ServerSettings.model_fields["max_message_mb"].default)
"""Longest incoming line, in bytes (`--max-message-mb`): a longer one is skipped up to its newline and refused
(the SDK's HTTP transport refuses bodies over 4 MiB; stdio allows more for local clients writing large files)."""

MAX_DEPTH = ServerSettings.model_fields["max_json_depth"].default
"""Deepest nesting of arrays and objects in an incoming message (`--max-json-depth`; the envelope counts: a
tool argument may nest about 60 deep). Python's and the SDK's JSON parsers recurse per level."""

ID_SCAN_CHARS = 65_536
"""How much of a line that cannot be parsed is scanned for its top-level "id"."""

_SURROGATE_ESCAPE = re.compile(r"(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})")


class Refused(Exception):
    """An incoming line the transport answers itself with a JSON-RPC error."""

    def __init__(self, code: int, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.code, self.request_id = code, request_id

    def reply(self) -> str:
        valid_id = isinstance(self.request_id, (str, int)) and not isinstance(self.request_id, bool)
        error = {"code": self.code, "message": str(self)}
        return json.dumps({"jsonrpc": "2.0", "id": self.request_id if valid_id else None, "error": error}) + "\n"


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _too_deep(message: Any, limit: int) -> bool:
    stack = [(message, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in value)
    return False


_ID_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\r\n]*")


def request_id_in(line: str) -> str | int | None:
    """The top-level "id" of the JSON object `line` begins, found in its first `ID_SCAN_CHARS` without parsing it."""
    prefix = line[:ID_SCAN_CHARS]
    at, depth = _BLANK.match(prefix).end(), 0
    if not prefix.startswith("{", at):
        return None
    while at < len(prefix):
        char = prefix[at]
        if char == '"':
            try:
                text, at = json.decoder.scanstring(prefix, at + 1)
            except ValueError:  # cut off or malformed
                return None
            colon = _BLANK.match(prefix, at).end()
            if depth == 1 and text == "id" and prefix.startswith(":", colon):
                try:
                    value, end = _ID_DECODER.raw_decode(prefix, _BLANK.match(prefix, colon + 1).end())
                except (ValueError, RecursionError):
                    return None
                if end == len(prefix) < len(line):  # the value may go on past the scan
                    return None
                return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None
            continue
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return None
        at += 1
    return None


def _lone_surrogate(line: str) -> int | None:
    """Offset of the first \\uD800-\\uDFFF escape in `line` that is not half of a high-low pair."""
    high_at = None
    for match in _SURROGATE_ESCAPE.finditer(line):
        if len(match.group(1)) % 2 == 0:
            continue  # an escaped backslash, then the letter u
        at, code = match.end(1) - 1, int(match.group(2), 16)
        if code >= 0xDC00 and high_at is not None and at == high_at + 6:
            high_at = None
        elif high_at is not None or code >= 0xDC00:
            return high_at if high_at is not None else at
        else:
            high_at = at
    return high_at


def parse(line: str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON-RPC message in `line` as plain JSON values; raises `Refused` for what the SDK cannot take."""
    try:
        message = json.loads(line, parse_constant=_reject_constant)
    except RecursionError:
        raise Refused(INVALID_REQUEST, f"message nested deeper than {max_depth} levels", request_id_in(line)) from None
    except ValueError as exc:
        raise Refused(PARSE_ERROR, f"invalid JSON: {exc}") from None
    request_id = message.get("id") if isinstance(message, dict) else None
    if line.count("[") + line.count("{") > max_depth and _too_deep(message, max_depth):
        raise Refused(INVALID_REQUEST, f"message nested deeper than {max_depth} levels", request_id)
    if (at := _lone_surrogate(line)) is not None:
        escape = line[at : at + 6]
        raise Refused(INVALID_REQUEST, f"invalid Unicode: lone surrogate {escape} at character {at}", request_id)
    try:
        jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValueError as exc:
        raise Refused(INVALID_REQUEST, f"invalid JSON-RPC message: {exc}", request_id) from None
    return message


def _claim(fd: int, replacement: int) -> int:
    """Move `fd` to a private non-blocking descriptor and point `fd` at `replacement`, so that
    child processes and stray prints never touch the protocol stream."""
    private = os.dup(fd)
    os.set_blocking(private, False)
    os.dup2(replacement, fd)
    return private


async def _ready(wait: Any, fd: int) -> None:
    """Wait until `fd` can be read or written; a regular file or /dev/null (redirected stdio) cannot be
    polled (EPERM) and never blocks, so it is ready at once."""
    try:
        await wait(fd)
    except PermissionError:
        await anyio.lowlevel.checkpoint()


class Wire:
    """The client's pipes, read and written without threads, tracking unanswered request ids."""

    def __init__(self, max_message_bytes: int = MAX_MESSAGE_BYTES, max_depth: int = MAX_DEPTH) -> None:
        devnull = os.open(os.devnull, os.O_RDONLY)
        self.stdin = _claim(0, devnull)
        os.close(devnull)
        self.stdout = _claim(1, 2)
        self.max_message_bytes, self.max_depth = max_message_bytes, max_depth
        self.chunk, self.offset, self.eof = b"", 0, False
        self.pending: set[object] = set()
        self.answered = anyio.Event()
        self.writing = anyio.Lock()

    # reading: `async for line in wire`
    def __aiter__(self) -> Wire:
        return self

    async def __anext__(self) -> str:
        while True:
            try:
                if (raw := await self._frame()) is None:
                    break
                if not raw.strip():
                    continue  # blank lines carry no message
                line = raw.decode("utf-8", errors="replace")
                message = parse(line, self.max_depth)
            except Refused as refused:
                log.warning("refused an incoming message: %s", str(refused)[:200])
                await self._send(refused.reply())
                continue
            self._note(message, incoming=True)
            return line
        while self.pending:
            self.answered = anyio.Event()
            await self.answered.wait()
        raise StopAsyncIteration

    async def _frame(self) -> bytes | None:
        """The next line without its newline, None at EOF. Chunks are joined once, at the newline;
        a line over the limit is dropped as it streams in, then refused."""
        parts: list[bytes] = []
        size, overflow, head = 0, False, b""
        while True:
            if self.offset >= len(self.chunk):
                if self.eof or not (chunk := await self._read()):
                    self.eof = True
                    if overflow or parts:
                        break
                    return None
                self.chunk, self.offset = chunk, 0
            end = self.chunk.find(b"\n", self.offset)
            stop = len(self.chunk) if end < 0 else end
            size += stop - self.offset
            if not overflow:
                parts.append(self.chunk[self.offset : stop])
                if size > self.max_message_bytes:  # keep only the head, where the request id is
                    overflow, head, parts = True, b"".join(parts)[: 4 * ID_SCAN_CHARS], []
            self.offset = stop + 1 if end >= 0 else stop
            if end >= 0:
                break
        if overflow:
            request_id = request_id_in(head.decode("utf-8", errors="replace"))
            raise Refused(INVALID_REQUEST, f"message longer than {self.max_message_bytes} bytes", request_id)
        return b"".join(parts)

    async def _read(self) -> bytes:
        while True:
            await _ready(anyio.wait_readable, self.stdin)
            try:
                return os.read(self.stdin, 1 << 20)
            except BlockingIOError:
                continue

    # writing: the AsyncFile subset the SDK uses
    async def write(self, text: str) -> None:
        try:
            self._note(json.loads(text), incoming=False)
        except (ValueError, RecursionError):
            pass
        await self._send(text)

    async def _send(self, text: str) -> None:
        data = memoryview(text.encode("utf-8", errors="replace"))
        async with self.writing:
            while data:
                await _ready(anyio.wait_writable, self.stdout)
                try:
                    data = data[os.write(self.stdout, data) :]
                except BlockingIOError:
                    continue

    async def flush(self) -> None:
        self.answered.set()

    def _note(self, message: Any, *, incoming: bool) -> None:
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


async def serve_stdio(
    server: MCPServer, *, max_message_bytes: int = MAX_MESSAGE_BYTES, max_depth: int = MAX_DEPTH
) -> None:
    """Serve until stdin reaches EOF (after answering every request), SIGINT/SIGTERM arrives or the client
    closes stdout."""
    wire = Wire(max_message_bytes, max_depth)
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
    except* BrokenPipeError:  # the client went away: nobody is left to answer, so stop quietly
        log.info("the client closed stdout, shutting down")
    finally:
        wire.close()

"""Start any memento server as a subprocess over stdio or streamable HTTP and connect a real SDK client.

    async with connect("documents", "http", mode="legacy", args=["--root", str(tmp)]) as client:
        result = await client.call_tool("read_document", {...})
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

SERVERS = ("search", "crawl", "documents", "code", "memory")
Transport = Literal["stdio", "http"]
Mode = Literal["auto", "legacy"]


def script(server: str) -> str:
    """The console script of a server, from the running interpreter's environment."""
    path = Path(sys.executable).parent / f"memento-{server}"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: install the project (pip install -e '.[dev]')")
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} before listening")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"server did not listen on port {port} within {timeout}s")


@asynccontextmanager
async def http_server(
    server: str, args: Sequence[str] = (), env: dict[str, str] | None = None, token: str | None = None
) -> AsyncIterator[str]:
    """Run `memento-<server> --transport http` on a free port; yields its /mcp URL."""
    port = free_port()
    command = [script(server), "--transport", "http", "--port", str(port), *args]
    if token:
        command += ["--token", token]
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    try:
        await anyio.to_thread.run_sync(wait_for_port, port, process)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@asynccontextmanager
async def connect(
    server: str,
    transport: Transport = "stdio",
    *,
    mode: Mode = "auto",
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    read_timeout: float = 120.0,
) -> AsyncIterator[Client]:
    """A connected `Client` to a fresh server process."""
    if transport == "stdio":
        params = StdioServerParameters(command=script(server), args=list(args), env={**os.environ, **(env or {})})
        async with Client(params, mode=mode, read_timeout_seconds=read_timeout) as client:
            yield client
        return
    token = "test-token"
    async with http_server(server, args, env, token=token) as url:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=read_timeout)
        async with http, Client(streamable_http_client(url, http_client=http), mode=mode, read_timeout_seconds=read_timeout) as client:
            yield client


def payload(result: Any) -> Any:
    """The structured content of a successful tool result (asserting it succeeded)."""
    assert not result.is_error, f"tool failed: {result.content[0].text if result.content else result}"
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def error_text(result: Any) -> str:
    """The message of a failed tool result (asserting it failed)."""
    assert result.is_error, f"expected an error, got {result.structured_content or result.content}"
    return " ".join(block.text for block in result.content if getattr(block, "text", None))

"""A small test-only MCP server on the shared runtime: echo, add, fail, crash and slow tools.

Run as `python -m tests.client.toy_server` (the client tests register it in an mcp.json).
"""

from __future__ import annotations

import os
from typing import Annotated

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from memento_core.errors import MementoError
from memento_servers.runtime import ServerSettings, ServerSpec, annotations, main_for, new_server


class ToySettings(ServerSettings):
    """Settings of the toy server."""


class Echo(BaseModel):
    text: str = Field(description="The text sent.")
    pid: int = Field(description="The server's process id.")


class Sum(BaseModel):
    value: float = Field(description="a + b.")


def build_server(settings: ToySettings) -> MCPServer:
    server = new_server("toy", instructions="Test tools.")
    closed = annotations(read_only=True, open_world=False)

    @server.tool(title="Echo", annotations=closed)
    def echo(text: Annotated[str, Field(description="Text to send back.")]) -> Echo:
        """Send the text back, with this server's process id."""
        return Echo(text=text, pid=os.getpid())

    @server.tool(title="Add", annotations=closed)
    def add(a: Annotated[float, Field(description="First number.")], b: Annotated[float, Field(description="Second.")]) -> Sum:
        """Add two numbers."""
        return Sum(value=a + b)

    @server.tool(title="Fail", annotations=closed)
    def fail(reason: Annotated[str, Field(description="The message of the error.")]) -> Echo:
        """Always fail with a tool error carrying `reason`."""
        raise MementoError(f"failed on purpose: {reason}")

    @server.tool(title="Crash", annotations=annotations(read_only=False, destructive=True, open_world=False))
    def crash() -> Echo:
        """Kill this server process at once (to test restarts)."""
        os._exit(3)

    @server.tool(title="Slow", annotations=closed)
    async def slow(seconds: Annotated[float, Field(description="How long to sleep.")]) -> Echo:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return Echo(text=f"slept {seconds}", pid=os.getpid())

    return server


SPEC = ServerSpec(name="toy", summary="Test tools.", settings=ToySettings, build=build_server, default_port=8799)
main = main_for(SPEC)

if __name__ == "__main__":
    main()

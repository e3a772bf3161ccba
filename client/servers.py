"""`memento servers`: the MCP servers installed with memento, each described by its own `--describe`."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points

from memento_client.mcp.config import DEFAULT_MCP_CONFIG
from memento_client.mcp.host import resolve_command

DESCRIBE_TIMEOUT_S = 60.0


@dataclass
class ServerListing:
    program: str
    summary: str
    default_port: int | None
    mcp_entry: dict

    def lines(self) -> list[str]:
        name = self.program.removeprefix("memento-")
        port = self.default_port or 8000
        return [
            f"{self.program}: {self.summary}",
            f"  stdio     {self.program}",
            f"  http      {self.program} --transport http --port {port}   -> http://127.0.0.1:{port}/mcp"
            " (add --token or MEMENTO_TOKEN to bind beyond loopback)",
            f'  mcp.json  "{name}": {json.dumps(self.mcp_entry)}',
        ]


def describe(program: str) -> ServerListing:
    """`program --describe` read into a listing; a server that cannot describe itself says why."""
    name = program.removeprefix("memento-")
    entry = DEFAULT_MCP_CONFIG["mcpServers"].get(name, {"command": program, "args": []})
    command = [resolve_command(program), "--describe"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DESCRIBE_TIMEOUT_S, check=True)
        described = json.loads(done.stdout)
        return ServerListing(program, described["summary"], described["default_port"], entry)
    except subprocess.CalledProcessError as exc:  # a broken server must not hide the others
        reason = (exc.stderr.strip().splitlines() or [f"exit status {exc.returncode}"])[-1]
    except (OSError, subprocess.TimeoutExpired, ValueError, KeyError, TypeError) as exc:
        reason = str(exc) or type(exc).__name__
    return ServerListing(program, f"(cannot describe: {reason})", None, entry)


@cache  # the installed servers do not change while memento runs
def installed_servers() -> list[ServerListing]:
    """Every `memento-*` console script, described in parallel, in mcp.json order."""
    order = list(DEFAULT_MCP_CONFIG["mcpServers"])
    programs = sorted({s.name for s in entry_points(group="console_scripts") if s.name.startswith("memento-")})
    with ThreadPoolExecutor(max_workers=max(1, len(programs))) as pool:
        found = list(pool.map(describe, programs))
    return sorted(found, key=lambda s: order.index(s.program[8:]) if s.program[8:] in order else len(order))

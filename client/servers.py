"""`memento servers`: the MCP servers installed with memento, discovered from their console scripts."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from importlib.metadata import entry_points

from memento_client.mcp.config import DEFAULT_MCP_CONFIG


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


def installed_servers() -> list[ServerListing]:
    """Every `memento-*` console script exposing a runtime `SPEC`, in mcp.json order."""
    order = list(DEFAULT_MCP_CONFIG["mcpServers"])
    found = []
    for script in entry_points(group="console_scripts"):
        if not script.name.startswith("memento-"):
            continue
        name = script.name.removeprefix("memento-")
        entry = DEFAULT_MCP_CONFIG["mcpServers"].get(name, {"command": script.name, "args": []})
        try:
            spec = getattr(importlib.import_module(script.module), "SPEC")
            summary, port = spec.summary, spec.default_port
        except Exception as exc:  # a broken server must not hide the others
            summary, port = f"(cannot load: {exc})", None
        found.append(ServerListing(script.name, summary, port, entry))
    return sorted(found, key=lambda s: order.index(s.program[8:]) if s.program[8:] in order else len(order))

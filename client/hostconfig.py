"""`memento servers --format HOST`: this install's servers as a config that HOST reads as pasted.

Commands are absolute paths of this install's console scripts (hosts start servers with a bare
environment, from `/`, without the project's virtualenv on PATH). With `--http`, each entry is the
server's URL with a bearer token written in the host's own placeholder syntax, never the token itself.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memento_client.mcp.config import DEFAULT_MCP_CONFIG
from memento_core.errors import ConfigError
from memento_core.version import extra_advice

TOKEN_VAR = "MEMENTO_TOKEN"
HOSTS_WITH_ROOTS = ("vscode",)  # hosts that give servers their workspace folders as MCP roots
VSCODE_TOKEN_INPUT = "memento-token"

# format -> the file the host reads it from
FORMATS = {
    "claude": "claude_desktop_config.json (Claude Desktop)",
    "cursor": ".cursor/mcp.json (Cursor)",
    "claude-code": ".mcp.json (Claude Code)",
    "vscode": ".vscode/mcp.json (VS Code)",
    "codex": "~/.codex/config.toml (Codex)",
    "json": "mcp.json (memento --mcp-config)",
}
# how each host writes "the value of the MEMENTO_TOKEN variable" in a header
TOKEN_PLACEHOLDER = {
    "cursor": "${env:" + TOKEN_VAR + "}",
    "claude-code": "${" + TOKEN_VAR + "}",
    "vscode": "${input:" + VSCODE_TOKEN_INPUT + "}",
    "json": "${" + TOKEN_VAR + "}",
}


@dataclass(frozen=True)
class Launch:
    """How a host starts one server: stdio command, or the URL it serves over HTTP."""

    name: str  # short name: documents
    command: str
    args: tuple[str, ...]
    url: str | None  # known with the server's port (from its --describe)

    @property
    def program(self) -> str:
        return f"memento-{self.name}"


def installed() -> tuple[list[str], list[str]]:
    """The servers whose extra is installed, in mcp.json order, and for each other one why it is left out."""
    usable, advice = [], []
    for name in DEFAULT_MCP_CONFIG["mcpServers"]:
        missing = extra_advice(f"memento-{name}", name)
        (advice.append(missing) if missing else usable.append(name))
    return usable, advice


def launches(names: Sequence[str], roots: Sequence[Path] = (), ports: Mapping[str, int] | None = None) -> list[Launch]:
    """`names` with this install's absolute commands; `roots` are the documents server's folders."""
    bin_dir = Path(sys.executable).parent
    root_args = tuple(arg for root in roots for arg in ("--root", str(root.expanduser().resolve())))
    return [
        Launch(
            name,
            str(bin_dir / f"memento-{name}"),
            root_args if name == "documents" else (),
            f"http://127.0.0.1:{ports[name]}/mcp" if ports and name in ports else None,
        )
        for name in names
    ]


def _stdio(fmt: str, launch: Launch) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": launch.command, "args": list(launch.args)}
    return {"type": "stdio", **entry} if fmt in ("claude-code", "vscode") else entry


def _http(fmt: str, launch: Launch) -> dict[str, Any]:
    if launch.url is None:
        raise ConfigError(f"the port of {launch.program} is unknown: it cannot describe itself (try {launch.program} --describe)")
    headers = {"Authorization": f"Bearer {TOKEN_PLACEHOLDER[fmt]}"}
    if fmt in ("claude-code", "vscode"):
        return {"type": "http", "url": launch.url, "headers": headers}
    return {"url": launch.url, "headers": headers}


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # JSON strings and arrays of strings are valid TOML


def _codex(servers: list[Launch], http: bool) -> str:
    tables = []
    for launch in servers:
        if http:
            keys = {"url": _http("json", launch)["url"], "bearer_token_env_var": TOKEN_VAR}
        else:
            keys = {"command": launch.command, "args": list(launch.args)}
        body = "\n".join(f"{key} = {_toml_value(value)}" for key, value in keys.items())
        tables.append(f"[mcp_servers.{launch.program}]\n{body}")
    return "\n\n".join(tables)


def check_format(fmt: str, http: bool) -> None:
    """Refuse a format that does not exist, or cannot hold HTTP entries, before any work."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if http and fmt == "claude":
        raise ConfigError(
            "claude_desktop_config.json starts stdio servers only: drop --http (or add the URL as a custom connector)"
        )


def host_config(fmt: str, servers: list[Launch], http: bool = False) -> str:
    """The config text of `fmt` (a key of FORMATS) for `servers`."""
    check_format(fmt, http)
    if fmt == "codex":
        return _codex(servers, http)
    entry = _http if http else _stdio
    key = (lambda launch: launch.name) if fmt == "json" else (lambda launch: launch.program)  # json: memento's tool prefixes
    entries = {key(launch): entry(fmt, launch) for launch in servers}
    if fmt == "vscode":
        token = {"type": "promptString", "id": VSCODE_TOKEN_INPUT, "description": f"memento server token ({TOKEN_VAR})", "password": True}
        return json.dumps({"inputs": [token] if http else [], "servers": entries}, indent=2)
    return json.dumps({"mcpServers": entries}, indent=2)

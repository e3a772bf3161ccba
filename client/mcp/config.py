"""mcp.json (`mcpServers` format) read into `ServerEntry` values; the embedded default registers the five servers.

An entry is either stdio (`command`, `args`, `env`, `cwd`) or HTTP (`url` or `type: "http"`, `headers`);
`${VAR}` in env and header values is expanded from the environment. Two optional keys, ignored by
other hosts, filter tools: `allow` (only these) and `deny` (default: `["server_info"]`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from memento_core.errors import ConfigError

DEFAULT_DENY = ("server_info",)
DEFAULT_MCP_CONFIG: dict[str, Any] = {
    "mcpServers": {
        "search": {"command": "memento-search", "args": []},
        "crawl": {"command": "memento-crawl", "args": []},
        "documents": {"command": "memento-documents", "args": []},
        "code": {"command": "memento-code", "args": []},
        "memory": {"command": "memento-memory", "args": []},
    }
}


@dataclass(frozen=True)
class ServerEntry:
    """How to reach one MCP server and which of its tools to expose."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    allow: tuple[str, ...] | None = None
    deny: tuple[str, ...] = DEFAULT_DENY

    @property
    def is_http(self) -> bool:
        return self.url is not None

    def exposes(self, tool: str) -> bool:
        return (self.allow is None or tool in self.allow) and tool not in self.deny

    def with_args(self, *extra: str) -> ServerEntry:
        return ServerEntry(**{**self.__dict__, "args": (*self.args, *extra)})


def expand(value: str) -> str:
    """`${VAR}` replaced from the environment (empty when unset)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), value)


def _entry(name: str, raw: Any, source: str) -> ServerEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: mcpServers.{name} must be an object")
    url = raw.get("url") or raw.get("serverUrl")
    if not url and not raw.get("command"):
        raise ConfigError(f"{source}: mcpServers.{name} needs a 'command' (stdio) or a 'url' (HTTP)")
    allow = raw.get("allow")
    return ServerEntry(
        name=name,
        command=None if url else str(raw["command"]),
        args=tuple(str(a) for a in raw.get("args", [])),
        env={str(k): expand(str(v)) for k, v in (raw.get("env") or {}).items()},
        cwd=raw.get("cwd"),
        url=url,
        headers={str(k): expand(str(v)) for k, v in (raw.get("headers") or {}).items()},
        allow=tuple(allow) if allow is not None else None,
        deny=tuple(raw.get("deny", DEFAULT_DENY)),
    )


def parse_mcp_config(document: Any, source: str = "mcp.json") -> list[ServerEntry]:
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if servers is None and isinstance(document, dict):
        servers = document.get("servers")  # VS Code's variant
    if not isinstance(servers, dict):
        raise ConfigError(f"{source}: expected an object with 'mcpServers'")
    return [_entry(name, raw, source) for name, raw in servers.items()]


def mcp_config_file(path: Path | None) -> Path | None:
    """The file `load_mcp_config(path)` reads: `path`, else ./mcp.json when there is one; None: the embedded default."""
    if path is None:
        local = Path("mcp.json")
        return local if local.exists() else None
    return path


def load_mcp_config(path: Path | None) -> list[ServerEntry]:
    """The entries of `path`, else of ./mcp.json, else the embedded default."""
    path = mcp_config_file(path)
    if path is None:
        return parse_mcp_config(DEFAULT_MCP_CONFIG, "embedded default")
    try:
        document = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"MCP config {path} does not exist") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read MCP config {path}: {exc}") from exc
    return parse_mcp_config(document, str(path))

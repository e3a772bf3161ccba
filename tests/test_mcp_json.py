"""mcp.json registers every server, and each entry starts a working server as an MCP host would."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.harness import SERVERS, payload

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[1]


def entries() -> dict:
    return json.loads((ROOT / "mcp.json").read_text())["mcpServers"]


def test_mcp_json_registers_all_five_servers():
    assert {entry["command"] for entry in entries().values()} == {f"memento-{name}" for name in SERVERS}


def test_no_entry_opens_a_folder_relative_to_where_a_host_starts_it():
    """`--root .` becomes / when a host starts the server there; the file and the embedded default have none."""
    from memento_client.mcp.config import DEFAULT_MCP_CONFIG

    assert json.loads((ROOT / "mcp.json").read_text()) == DEFAULT_MCP_CONFIG
    assert all("--root" not in entry["args"] for entry in entries().values())


@pytest.mark.parametrize("name", SERVERS)
async def test_mcp_json_entry_starts_the_server(name, tmp_path):
    entry = entries()[name]
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], **entry.get("env", {})}
    params = StdioServerParameters(command=entry["command"], args=entry.get("args", []), env=env, cwd=str(tmp_path))
    async with Client(params, read_timeout_seconds=120) as client:
        info = payload(await client.call_tool("server_info", {}))
    assert info["name"] == f"memento-{name}"

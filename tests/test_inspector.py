"""The same conformance checks through a real third-party client: the MCP Inspector CLI (Node)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.harness import SERVERS, script

INSPECTOR = ["npx", "-y", "@modelcontextprotocol/inspector@0.15.0", "--cli"]
pytestmark = [
    pytest.mark.inspector,
    pytest.mark.skipif(shutil.which("npx") is None, reason="npx (Node.js) is not installed"),
]


def _inspect(server: str, *method: str) -> dict:
    done = subprocess.run([*INSPECTOR, script(server), *method], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize("server", SERVERS)
def test_inspector_lists_and_calls_tools(server):
    tools = _inspect(server, "--method", "tools/list")["tools"]
    assert tools, "no tools listed"
    for tool in tools:
        assert tool.get("annotations"), f"{tool['name']} lacks annotations"
        assert tool.get("outputSchema"), f"{tool['name']} lacks outputSchema"
    called = _inspect(server, "--method", "tools/call", "--tool-name", "server_info")
    assert not called.get("isError")
    assert called["structuredContent"]["name"] == f"memento-{server}"
    assert json.loads(called["content"][0]["text"]) == called["structuredContent"]

"""`memento servers --format HOST` prints a config each host reads as pasted, and its commands start
working servers the way a host starts them: from `/`, with a bare environment, over stdio."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from memento_client.cli import run
from memento_client.hostconfig import FORMATS
from memento_client.mcp.config import parse_mcp_config
from tests.harness import SERVERS

BIN = Path(sys.executable).parent


def printed(capsys, *args: str) -> str:
    assert run(["servers", *args]) == 0
    return capsys.readouterr().out


def stdio_entries(fmt: str, text: str) -> dict[str, dict]:
    """The server entries of a printed config, as the host would read them."""
    if fmt == "codex":
        return tomllib.loads(text)["mcp_servers"]
    document = json.loads(text)
    return document["servers" if fmt == "vscode" else "mcpServers"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_names_every_server_by_the_absolute_path_of_this_install(capsys, tmp_path, fmt):
    entries = stdio_entries(fmt, printed(capsys, "--format", fmt, "--root", str(tmp_path)))
    names = {f"memento-{s}": s for s in SERVERS} if fmt != "json" else {s: s for s in SERVERS}
    assert set(entries) == set(names)
    for key, server in names.items():
        entry = entries[key]
        assert entry["command"] == str(BIN / f"memento-{server}") and Path(entry["command"]).is_file()
        assert entry["args"] == (["--root", str(tmp_path.resolve())] if server == "documents" else [])
        assert entry.get("type", "stdio") == "stdio"
        if fmt in ("claude-code", "vscode"):
            assert entry["type"] == "stdio"  # both hosts want the transport spelled out


def test_vscode_declares_its_inputs_and_the_json_format_is_what_memento_reads(capsys, tmp_path):
    vscode = json.loads(printed(capsys, "--format", "vscode", "--root", str(tmp_path)))
    assert vscode["inputs"] == [] and set(vscode) == {"inputs", "servers"}
    entries = parse_mcp_config(json.loads(printed(capsys, "--format", "json", "--root", str(tmp_path))))
    assert [e.name for e in entries] == list(SERVERS) and all(Path(e.command).is_absolute() for e in entries)


@pytest.mark.parametrize(
    ("fmt", "placeholder"),
    [("cursor", "${env:MEMENTO_TOKEN}"), ("claude-code", "${MEMENTO_TOKEN}"), ("vscode", "${input:memento-token}"),
     ("json", "${MEMENTO_TOKEN}")],
)
def test_http_entries_carry_the_token_in_the_host_s_own_placeholder_syntax(capsys, monkeypatch, fmt, placeholder):
    monkeypatch.setenv("MEMENTO_TOKEN", "s3cret-never-printed")
    text = printed(capsys, "--format", fmt, "--http")
    assert "s3cret-never-printed" not in text
    entries = stdio_entries(fmt, text)
    ports = sorted(int(e["url"].rsplit(":", 1)[1].split("/")[0]) for e in entries.values())
    assert ports == [8711, 8712, 8713, 8714, 8715]
    assert {e["headers"]["Authorization"] for e in entries.values()} == {f"Bearer {placeholder}"}
    if fmt == "vscode":
        declared = json.loads(text)["inputs"]
        assert [(i["id"], i["password"]) for i in declared] == [("memento-token", True)]


def test_codex_http_entries_name_the_token_variable_and_claude_desktop_refuses_http(capsys):
    servers = tomllib.loads(printed(capsys, "--format", "codex", "--http"))["mcp_servers"]
    assert {e["bearer_token_env_var"] for e in servers.values()} == {"MEMENTO_TOKEN"}
    assert run(["servers", "--format", "claude", "--http"]) == 2
    assert "stdio servers only" in capsys.readouterr().err


def test_the_whole_disk_is_refused_as_the_documents_root(capsys, monkeypatch):
    monkeypatch.chdir("/")
    assert run(["servers", "--format", "claude"]) == 2
    assert "pass --root" in capsys.readouterr().err


def test_documents_reads_the_current_folder_or_for_vscode_the_workspace_roots(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    claude = stdio_entries("claude", printed(capsys, "--format", "claude"))
    assert claude["memento-documents"]["args"] == ["--root", str(tmp_path.resolve())]
    vscode = stdio_entries("vscode", printed(capsys, "--format", "vscode"))
    assert vscode["memento-documents"]["args"] == []  # the server asks VS Code for its roots (roots/list)


@pytest.mark.anyio
@pytest.mark.parametrize("server", SERVERS)
async def test_printed_commands_start_as_a_host_starts_them(capsys, tmp_path, server):
    """Claude Desktop's way: cwd /, no virtualenv on PATH, a bare environment; the server lists its tools."""
    entry = stdio_entries("claude", printed(capsys, "--format", "claude", "--root", str(tmp_path)))[f"memento-{server}"]
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "MEMENTO_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env, cwd="/")
    async with Client(params, read_timeout_seconds=120) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    assert "server_info" in tools and len(tools) > 1

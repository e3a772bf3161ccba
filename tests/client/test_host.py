"""The MCP host over real server processes (the toy server), over stdio and streamable HTTP."""

from __future__ import annotations

import os
import subprocess
import sys

import anyio
import pytest

from memento_client.errors import HostError
from memento_client.mcp.config import ServerEntry, parse_mcp_config
from memento_client.mcp.host import Host, qualified_name
from tests.client.conftest import REPO, toy_entry
from tests.harness import free_port, wait_for_port

pytestmark = pytest.mark.anyio


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie is not alive
        return handle.read().split(")")[-1].split()[0] != "Z"


async def test_tools_are_namespaced_filtered_and_errors_come_back_as_results():
    entries = [toy_entry(), toy_entry("second", allow=("echo", "server_info"), deny=())]
    with anyio.fail_after(60):
        async with Host(entries, deny=["toy__slow"]) as host:
            assert sorted(host.tools) == [
                "second__echo", "second__server_info", "toy__add", "toy__crash", "toy__echo", "toy__fail"
            ]  # fmt: skip
            tool = host.tools["toy__add"].openai_tool()
            assert tool["function"]["parameters"]["required"] == ["a", "b"]
            ok = await host.call("toy__add", {"a": 2, "b": 3})
            assert not ok.is_error and ok.structured == {"value": 5.0}
            failed = await host.call("toy__fail", {"reason": "because"})
            assert failed.is_error and "failed on purpose: because" in failed.text
            bad_arguments = await host.call("toy__add", {"a": "two"})
            assert bad_arguments.is_error and "add" in bad_arguments.text
            unknown = await host.call("toy__nope", {})
            assert unknown.is_error and "available tools: second__echo" in unknown.text
            pid = (await host.call("toy__echo", {"text": "x"})).structured["pid"]
            assert alive(pid)
    assert not alive(pid)


async def test_servers_that_fail_to_start_are_reported_and_the_rest_run():
    broken = ServerEntry("broken", command=sys.executable, args=("-c", "import sys; sys.exit(1)"))
    with anyio.fail_after(60):
        async with Host([toy_entry(), broken]) as host:
            assert "broken" in host.failed and "failed to start" in host.failed["broken"]
            assert "toy__echo" in host.tools
        with pytest.raises(HostError, match="no MCP server could be started"):
            async with Host([broken]):
                pass


async def test_http_server_with_a_bearer_token_from_the_environment(monkeypatch):
    port = free_port()
    monkeypatch.setenv("TOY_TOKEN", "s3cret")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.client.toy_server", "--transport", "http", "--port", str(port), "--token", "s3cret"],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
    try:
        await anyio.to_thread.run_sync(wait_for_port, port, process)
        config = {"mcpServers": {"remote": {"url": f"http://127.0.0.1:{port}/mcp", "headers": {"Authorization": "Bearer ${TOY_TOKEN}"}}}}
        with anyio.fail_after(60):
            async with Host(parse_mcp_config(config)) as host:
                result = await host.call("remote__echo", {"text": "over http"})
                assert result.structured["text"] == "over http"
            monkeypatch.setenv("TOY_TOKEN", "wrong")
            with pytest.raises(HostError, match="no MCP server could be started"):
                async with Host(parse_mcp_config(config)):
                    pass
    finally:
        process.terminate()
        process.wait(15)


def test_qualified_names_fit_openai_limits():
    assert qualified_name("my.server", "do thing") == "my_server__do_thing"
    long = qualified_name("s" * 40, "t" * 40)
    assert len(long) == 64 and long != qualified_name("s" * 40, "t" * 39 + "u")


def test_mcp_config_reads_stdio_http_and_vscode_shapes(monkeypatch):
    monkeypatch.setenv("K", "v")
    entries = parse_mcp_config(
        {"servers": {"a": {"command": "x", "args": ["--y"], "env": {"E": "${K}"}}, "b": {"type": "http", "url": "http://h/mcp"}}}
    )
    assert entries[0].env == {"E": "v"} and entries[0].args == ("--y",) and not entries[0].exposes("server_info")
    assert entries[1].is_http and entries[1].command is None

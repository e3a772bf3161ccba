"""HTTP serving is loopback-only without a token, demands the token when set, and checks Host/Origin."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from tests.harness import SERVERS, connect, http_server, payload, script

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize("server", SERVERS)
def test_non_loopback_bind_without_token_is_refused(server):
    done = subprocess.run(
        [script(server), "--transport", "http", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs a bearer token" in done.stderr


@pytest.mark.parametrize("server", SERVERS)
async def test_token_is_required_and_checked(server):
    async with http_server(server, token="s3cret") as url:
        async with httpx.AsyncClient(timeout=30) as http:
            missing = await http.post(url, json=INIT, headers=HEADERS)
            wrong = await http.post(url, json=INIT, headers={**HEADERS, "Authorization": "Bearer nope"})
            right = await http.post(url, json=INIT, headers={**HEADERS, "Authorization": "Bearer s3cret"})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert "s3cret" not in wrong.text
    assert right.status_code == 200


@pytest.mark.parametrize("server", SERVERS)
async def test_foreign_origin_and_host_are_rejected(server):
    async with http_server(server) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            evil_origin = await http.post(url, json=INIT, headers={**HEADERS, "Origin": "http://evil.example"})
            evil_host = await http.post(url, json=INIT, headers={**HEADERS, "Host": "evil.example"})
            local_origin = await http.post(url, json=INIT, headers={**HEADERS, "Origin": "http://localhost:3000"})
    assert evil_origin.status_code == 403
    assert evil_host.status_code == 421
    assert local_origin.status_code == 200


async def test_configured_origin_is_accepted():
    async with http_server("documents", ["--allowed-origins", "https://app.example"]) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            reply = await http.post(url, json=INIT, headers={**HEADERS, "Origin": "https://app.example"})
    assert reply.status_code == 200


async def test_token_from_environment_is_masked_in_server_info():
    async with connect("documents", "stdio", env={"MEMENTO_TOKEN": "from-env"}) as client:
        info = payload(await client.call_tool("server_info", {}))
    assert info["settings"]["token"] == "***"

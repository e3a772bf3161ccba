"""An empty or blank token is no token: serving beyond loopback with one is refused before binding."""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from tests.harness import SERVERS, http_server, script

REFUSAL = "needs a bearer token (set a non-empty --token or MEMENTO_TOKEN)"


def serve_everywhere(server: str, *args: str, token_env: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    if token_env is not None:
        env["MEMENTO_TOKEN"] = token_env
    command = [script(server), "--transport", "http", "--host", "0.0.0.0", "--port", "0", *args]
    try:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{server} served on 0.0.0.0 instead of refusing an empty token")


@pytest.mark.parametrize("server", SERVERS)
def test_http_empty_token_from_environment_refuses_a_public_bind(server):
    done = serve_everywhere(server, token_env="")
    assert done.returncode == 2, done.stderr
    assert REFUSAL in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "token_env"), [((), "   "), ((), "\t\n"), (("--token", ""), None), (("--token", "  "), None)])
def test_http_blank_token_by_flag_or_environment_refuses_a_public_bind(args, token_env):
    done = serve_everywhere("crawl", *args, token_env=token_env)
    assert done.returncode == 2, done.stderr
    assert REFUSAL in done.stderr


@pytest.mark.anyio
async def test_http_token_padded_with_blanks_is_the_token_without_them():
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with http_server("memory", token="  s3cret \t") as url, httpx.AsyncClient(timeout=30) as http:
        missing = await http.post(url, json=init, headers=headers)
        right = await http.post(url, json=init, headers={**headers, "Authorization": "Bearer s3cret"})
    assert missing.status_code == 401 and right.status_code == 200

"""Two memory replicas sharing one bank behind HAProxy, with the shipped deploy/haproxy.cfg."""

from __future__ import annotations

import shutil
import subprocess
import time
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.harness import free_port, http_server, payload, wait_for_port

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
TOKEN = "replica-token"
CLIENTS, WRITES = 4, 5


@contextmanager
def haproxy(memory_replicas: list[str]):
    """The shipped config on loopback ports; the code backends point at ports nothing listens on."""
    binary = shutil.which("haproxy")
    if binary is None:
        pytest.skip("haproxy is missing: apt-get install haproxy (the Debian package)")
    front = free_port()
    env = {
        "MEMENTO_MEMORY_FRONT": f"127.0.0.1:{front}",
        "MEMENTO_MEMORY_1": memory_replicas[0],
        "MEMENTO_MEMORY_2": memory_replicas[1],
        "MEMENTO_CODE_FRONT": f"127.0.0.1:{free_port()}",
        "MEMENTO_CODE_1": f"127.0.0.1:{free_port()}",
        "MEMENTO_CODE_2": f"127.0.0.1:{free_port()}",
    }
    process = subprocess.Popen(
        [binary, "-db", "-f", str(CONFIG)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(front, process, timeout=20)
        yield f"http://127.0.0.1:{front}/mcp"
    finally:
        process.terminate()
        process.wait(10)


def client(url: str, http: httpx2.AsyncClient, legacy: bool = False) -> Client:
    return Client(streamable_http_client(url, http_client=http), mode="legacy" if legacy else "auto")


@pytest.mark.anyio
async def test_clients_write_through_the_balancer_and_either_replica_reads_everything(s3_env):
    args = ["--db", s3_env.bank(), "--model", "feature-hash", "--refresh-interval-s", "0.2"]
    served_by: dict[int, set[int]] = {}
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(http_server("memory", args, token=TOKEN)) for _ in range(2)]
        addresses = [url.removeprefix("http://").removesuffix("/mcp") for url in replicas]
        balancer = stack.enter_context(haproxy(addresses))
        http = await stack.enter_async_context(httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60))

        async def write(number: int) -> None:
            async with client(balancer, http, legacy=number % 2 == 1) as session:  # half hold an MCP session
                served_by[number] = set()
                for i in range(WRITES):
                    task = f"client {number} wrote task {i} on subject {i % 3}"
                    result = payload(await session.call_tool("write_case", {"task": task, "reward": 1.0, "case_id": f"c{number}-{i}"}))
                    assert result["created"] == [f"c{number}-{i}"]
                    served_by[number].add(payload(await session.call_tool("server_info", {}))["settings"]["port"])

        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for number in range(CLIENTS):
                    group.start_soon(write, number)
        ports = [int(address.rsplit(":", 1)[1]) for address in addresses]
        for number, seen in served_by.items():
            if number % 2:  # a legacy session stayed on the replica that holds it
                assert len(seen) == 1 and seen < set(ports)
        async with client(balancer, http) as alone:  # sessionless requests, nothing else in flight: round robin
            seen = [payload(await alone.call_tool("server_info", {}))["settings"]["port"] for _ in range(4)]
        assert set(seen) == set(ports)

        expected = {f"c{number}-{i}" for number in range(CLIENTS) for i in range(WRITES)}
        for url in replicas:  # each replica directly, not through the balancer
            async with client(url, http) as session:
                deadline = time.monotonic() + 5.0
                while True:
                    page = payload(await session.call_tool("list_cases", {"limit": 200}))
                    if {case["id"] for case in page["cases"]} == expected:
                        break
                    assert time.monotonic() < deadline, f"{url} does not see every write: {page['total']}"
                    await anyio.sleep(0.1)
                for number in range(CLIENTS):
                    task = f"client {number} wrote task 2 on subject 2"
                    found = payload(await session.call_tool("retrieve_cases", {"task": task, "k": 1}))
                    assert found["positive"][0]["id"] == f"c{number}-2"


@pytest.mark.anyio
async def test_a_request_without_the_token_is_refused_through_the_balancer(tmp_path):
    args = ["--db", str(tmp_path / "bank"), "--model", "feature-hash"]
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(http_server("memory", args, token=TOKEN)) for _ in range(2)]
        balancer = stack.enter_context(haproxy([url.removeprefix("http://").removesuffix("/mcp") for url in replicas]))
        async with httpx2.AsyncClient(timeout=30) as http:
            response = await http.post(balancer, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert response.status_code == 401

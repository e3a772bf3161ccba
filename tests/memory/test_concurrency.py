"""Several processes on one bank: no lost or duplicated write, durability across SIGKILL, freshness."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import AsyncExitStack

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from memento_memory.bank import CaseBank
from memento_memory.store import CaseStore
from tests.harness import http_server, payload

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "test-token"


def writer(db, batch: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.memory.writer", str(db), str(batch)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert json.loads(process.stdout.readline()) == {"ready": True}
    return process


def stored_ids(db) -> list[str]:
    return CaseStore(str(db), "feature-hash").read_all().column("id").to_pylist()


@pytest.mark.anyio
async def test_four_server_processes_and_eight_http_clients_lose_and_duplicate_nothing(tmp_path):
    db = tmp_path / "bank"
    args = ["--db", str(db), "--model", "feature-hash"]
    per_client, errors, expected = 8, [], set()
    async with AsyncExitStack() as stack:
        urls: list[str] = []

        async def start() -> None:
            urls.append(await stack.enter_async_context(http_server("memory", args, token=TOKEN)))

        with anyio.fail_after(120):
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(start)

        async def client_run(number: int) -> None:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            async with http, Client(streamable_http_client(urls[number % 4], http_client=http)) as client:
                for i in range(per_client):
                    case_id = f"client{number}-case{i}"
                    expected.add(case_id)
                    arguments = {"task": f"client {number} task {i} about topic {i % 5}", "reward": (i % 2) * 1.0, "case_id": case_id}
                    for _ in range(2 if i % 3 == 0 else 1):  # some writes are retried: still stored once
                        result = await client.call_tool("write_case", arguments)
                        if result.is_error:
                            errors.append(result.content[0].text)
                    found = await client.call_tool("retrieve_cases", {"task": f"task about topic {i % 5}", "k": 4})
                    if found.is_error:
                        errors.append(found.content[0].text)
                stats = payload(await client.call_tool("memory_stats", {}))
                assert stats["cases"] >= per_client

        with anyio.fail_after(180):
            async with anyio.create_task_group() as group:
                for number in range(8):
                    group.start_soon(client_run, number)
    ids = stored_ids(db)
    assert errors == []
    assert len(ids) == len(set(ids)) == 8 * per_client
    assert set(ids) == expected


def test_every_acknowledged_write_survives_a_sigkill_mid_batch(tmp_path):
    db = tmp_path / "bank"
    process = writer(db, batch=25)
    acknowledged: list[str] = []
    try:
        while len(acknowledged) < 6 * 25:
            acknowledged += json.loads(process.stdout.readline())
        time.sleep(0.03)  # let it get into the next batch
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    ids = stored_ids(db)
    assert set(acknowledged) <= set(ids)
    assert len(ids) % 25 == 0 and len(ids) == len(set(ids))  # whole batches only, no duplicates
    with CaseBank.open(db=str(db), model="feature-hash") as bank:  # the bank opens and still takes writes
        assert len(bank.list()) == len(ids)
        bank.write([{"task": "after the crash", "reward": 1}])
        assert bank.stats().cases == len(ids) + 1


def test_a_reader_sees_another_processs_write_within_one_second(tmp_path):
    db = tmp_path / "bank"
    process = writer(db, batch=0)
    try:
        with CaseBank.open(db=str(db), model="feature-hash") as reader:
            for round_number in range(3):
                process.stdin.write(f"fresh case number {round_number}\n")
                process.stdin.flush()
                (case_id,) = json.loads(process.stdout.readline())
                acknowledged = time.monotonic()
                while case_id not in {c.id for c in reader.list()}:
                    assert time.monotonic() - acknowledged < 1.0, "the write was not visible within 1 s"
                    time.sleep(0.01)
                found = reader.retrieve(f"fresh case number {round_number}", k=1)
                assert found.positive[0].id == case_id
    finally:
        process.stdin.close()
        process.wait(20)


def test_concurrent_first_writes_in_one_process_never_see_a_half_open_store(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from memento_memory.store import CaseStore

    store = CaseStore(str(tmp_path / "fresh-bank"), "test-model")

    def first_write(_):
        store.ensure(8)
        return store.cases is not None and store.cases.schema is not None

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert all(pool.map(first_write, range(64)))

"""Scale-out figures on this machine: eval fan-out on Ray, memory replicas behind HAProxy, the S3 bank.

    python -m benchmarks.scale [--quick]

1. `memento eval` tasks/s with a fake model that answers every call after 1 s (8 calls per task, the
   `benchmarks.client` script), at 1, 8 and 32 tasks in flight, in one process (baseline) and on a
   local Ray (one actor per CPU, each with its own agent and MCP servers). MCP servers and actors are
   started and warmed up before timing.
2. `retrieve_cases` requests/s through HAProxy (deploy/haproxy.cfg) to 1 memory replica (both backend
   entries point at it: the baseline) and to 2 replicas sharing one bank; 16 sessionless clients in
   one process, feature-hash embeddings (the embedder is not what is measured).
3. Writes/s to a bank on a local S3 server (moto) and on local disk (baseline): one case per commit,
   and batches of 25.
Everything shares this machine's cores (the server, the client, the balancer, Ray): the figures are a
lower bound of what separate machines give. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio

from benchmarks.client import FakeProcess, _config, _entries, eval_rate

ROOT = Path(__file__).resolve().parents[1]
LATENCY = 1.0


async def ray_rate(url: str, tasks: int, concurrency: int) -> float:
    from memento_client.eval.datasets import Item
    from memento_client.eval.ray_fanout import ray_agent
    from memento_client.eval.runner import EvalPlan, run_iteration

    items = [Item(f"t{n}", f"question {n}", ["done"], "bench") for n in range(tasks)]
    with tempfile.TemporaryDirectory() as folder:
        plan = EvalPlan(items, 1, concurrency, Path(folder), {})
        async with ray_agent(_config(url), _entries(), plan.out, concurrency) as agent:
            async def warm_up(worker) -> None:  # its MCP servers start
                await worker.run.remote("warm-up task", {})

            async with anyio.create_task_group() as group:
                for worker in agent.workers:
                    group.start_soon(warm_up, worker)
            started = time.perf_counter()
            await run_iteration(agent, plan, 1)
            return tasks / (time.perf_counter() - started)


def eval_figures(quick: bool) -> dict:
    import ray

    counts = {1: 2, 8: 8, 32: 32} if quick else {1: 4, 8: 32, 32: 96}
    figures: dict = {"model_latency_s": LATENCY, "model_calls_per_task": 8}
    fake = FakeProcess(LATENCY)
    try:
        for concurrency, tasks in counts.items():
            print(f"eval local, concurrency {concurrency}...", file=sys.stderr)
            figures[f"eval_local_tasks_per_s_c{concurrency}"] = round(anyio.run(eval_rate, fake.url, tasks, concurrency), 3)
        ray.init(include_dashboard=False, logging_level="warning", configure_logging=False)
        figures["ray_cpus"] = int(ray.cluster_resources().get("CPU", 0))
        try:
            for concurrency, tasks in counts.items():
                print(f"eval on Ray, concurrency {concurrency}...", file=sys.stderr)
                figures[f"eval_ray_tasks_per_s_c{concurrency}"] = round(anyio.run(ray_rate, fake.url, tasks, concurrency), 3)
        finally:
            ray.shutdown()
    finally:
        fake.close()
    for where in ("local", "ray"):
        figures[f"eval_{where}_speedup_c32_vs_c1"] = round(
            figures[f"eval_{where}_tasks_per_s_c32"] / figures[f"eval_{where}_tasks_per_s_c1"], 2
        )
    figures["eval_ray_vs_local_c32"] = round(figures["eval_ray_tasks_per_s_c32"] / figures["eval_local_tasks_per_s_c32"], 2)
    figures["eval_target_speedup_c32_vs_c1"] = 20.0
    return figures


def start_haproxy(memory: list[str]) -> tuple[subprocess.Popen, str]:
    from tests.harness import free_port, wait_for_port

    front = free_port()
    env = {
        "MEMENTO_MEMORY_FRONT": f"127.0.0.1:{front}", "MEMENTO_MEMORY_1": memory[0], "MEMENTO_MEMORY_2": memory[1],
        "MEMENTO_CODE_FRONT": f"127.0.0.1:{free_port()}", "MEMENTO_CODE_1": "127.0.0.1:1", "MEMENTO_CODE_2": "127.0.0.1:2",
    }
    process = subprocess.Popen(
        [shutil.which("haproxy"), "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(front, process, timeout=20)
    return process, f"http://127.0.0.1:{front}/mcp"


async def retrieve_rate(bank: str, replicas: int, seconds: float, clients: int, seed: int) -> float:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    from tests.harness import http_server

    token = "bench-token"
    args = ["--db", bank, "--model", "feature-hash", "--log-level", "WARNING"]
    rng = random.Random(seed)
    async with AsyncExitStack() as stack:
        urls = [await stack.enter_async_context(http_server("memory", args, token=token)) for _ in range(replicas)]
        addresses = [u.removeprefix("http://").removesuffix("/mcp") for u in urls]
        balancer, front = start_haproxy(addresses * (2 // replicas))
        stack.callback(lambda: (balancer.terminate(), balancer.wait(10)))
        http = await stack.enter_async_context(httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60))
        done = 0

        async def client(number: int) -> None:
            nonlocal done
            async with Client(streamable_http_client(front, http_client=http)) as session:
                await session.call_tool("retrieve_cases", {"task": "warm up", "k": 4})
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    result = await session.call_tool("retrieve_cases", {"task": f"topic {rng.randrange(50)} question", "k": 4})
                    assert not result.is_error
                    done += 1

        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for number in range(clients):
                group.start_soon(client, number)
        return done / (time.monotonic() - started)


def balancer_figures(quick: bool, seed: int) -> dict:
    if shutil.which("haproxy") is None:
        return {"balancer": "skipped: haproxy is missing (apt-get install haproxy)"}
    from memento_memory.bank import CaseBank

    seconds = 8.0 if quick else 30.0
    with tempfile.TemporaryDirectory() as folder:
        bank = str(Path(folder) / "bank")
        with CaseBank.open(db=bank, model="feature-hash") as opened:
            for start in (0, 1000):
                opened.write([{"task": f"topic {i % 50} question {i}", "reward": float(i % 2)} for i in range(start, start + 1000)])
        figures = {}
        for replicas in (1, 2):
            print(f"retrieve_cases through HAProxy, {replicas} replica(s)...", file=sys.stderr)
            rate = anyio.run(retrieve_rate, bank, replicas, seconds, 16, seed)
            figures[f"retrieve_req_per_s_{replicas}_replica{'s' if replicas > 1 else ''}"] = round(rate, 1)
    figures["retrieve_2_vs_1_replica"] = round(figures["retrieve_req_per_s_2_replicas"] / figures["retrieve_req_per_s_1_replica"], 2)
    return figures


def write_rate(uri: str, singles: int, batches: int) -> tuple[float, float]:
    from memento_memory.bank import CaseBank

    with CaseBank.open(db=uri, model="feature-hash") as bank:
        bank.write([{"task": "first write creates the tables", "reward": 1.0}])
        started = time.perf_counter()
        for i in range(singles):
            bank.write([{"task": f"single write {i}", "reward": 1.0}])
        single = singles / (time.perf_counter() - started)
        started = time.perf_counter()
        for b in range(batches):
            bank.write([{"task": f"batch {b} case {i}", "reward": 1.0} for i in range(25)])
        batched = 25 * batches / (time.perf_counter() - started)
    return single, batched


def object_store_figures(quick: bool) -> dict:
    from botocore.session import get_session

    from tests.harness import free_port, wait_for_port

    singles, batches = (30, 6) if quick else (150, 30)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    figures: dict = {}
    try:
        wait_for_port(port, server, timeout=30)
        endpoint = f"http://127.0.0.1:{port}"
        aws = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
        os.environ.update(aws)
        get_session().create_client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench-bank")
        print("writes to the S3 bank (moto)...", file=sys.stderr)
        s3_single, s3_batched = write_rate("s3://bench-bank/bank", singles, batches)
        with tempfile.TemporaryDirectory() as folder:
            print("writes to the local bank...", file=sys.stderr)
            disk_single, disk_batched = write_rate(str(Path(folder) / "bank"), singles, batches)
    finally:
        server.terminate()
        server.wait(10)
    figures.update(
        write_cases_per_s_single_s3=round(s3_single, 1), write_cases_per_s_single_disk=round(disk_single, 1),
        write_cases_per_s_batch25_s3=round(s3_batched, 1), write_cases_per_s_batch25_disk=round(disk_batched, 1),
        write_s3_vs_disk_single=round(s3_single / disk_single, 2), write_s3_vs_disk_batch25=round(s3_batched / disk_batched, 2),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["eval", "balancer", "writes"], help="Run one part.")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    figures: dict = {"quick": args.quick, "seed": args.seed, "cpus": os.cpu_count()}
    if args.only in (None, "writes"):
        figures.update(object_store_figures(args.quick))
    if args.only in (None, "balancer"):
        figures.update(balancer_figures(args.quick, args.seed))
    if args.only in (None, "eval"):
        figures.update(eval_figures(args.quick))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""memento-code: HumanEval in the sandbox, warm-call latency and cold-session time over MCP stdio.

    python -m benchmarks.code [--quick] [--data ../shared/data]

Every HumanEval reference solution runs with its tests through `run_python` (one session);
all 164 must pass. Beside it, in the same run, the same code runs in a plain unsandboxed
`python -c` subprocess: the baseline for the overhead ratios. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import anyio

ROOT = Path(__file__).resolve().parents[1]
TRIVIAL = "1 + 1"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def humaneval_programs(data: Path, limit: int | None) -> list[str]:
    path = data / "code" / "HumanEval.jsonl.gz"
    with gzip.open(path, "rt") as handle:
        problems = [json.loads(line) for line in handle]
    programs = [
        f"{p['prompt']}{p['canonical_solution']}\n\n{p['test']}\n\ncheck({p['entry_point']})\n" for p in problems
    ]
    return programs[:limit] if limit else programs


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def call(client, code: str, session_id: str | None = None) -> dict:
    from tests.harness import payload

    args = {"code": code, **({"session_id": session_id} if session_id else {})}
    return payload(await client.call_tool("run_python", args))


async def measure_sandbox(programs: list[str], warm_calls: int, cold_sessions: int) -> dict:
    from tests.harness import connect, payload

    figures: dict = {}
    async with connect("code", args=["--max-sessions", "64"]) as client:
        await anyio.sleep(3)  # let the warm spare finish starting
        cold = []
        for _ in range(cold_sessions):
            started = time.perf_counter()
            first = await call(client, TRIVIAL)
            cold.append(time.perf_counter() - started)
            await client.call_tool("close_session", {"session_id": first["session_id"]})
            await anyio.sleep(3)  # the spare refills in the background
        figures["cold_session_ms"] = ms(statistics.median(cold))

        session = (await call(client, TRIVIAL))["session_id"]
        warm = []
        for _ in range(warm_calls):
            started = time.perf_counter()
            await call(client, TRIVIAL, session)
            warm.append(time.perf_counter() - started)
        warm.sort()
        figures["warm_call_p50_ms"] = ms(statistics.median(warm))
        figures["warm_call_p90_ms"] = ms(warm[int(len(warm) * 0.9)])

        passed, failures = 0, []
        started = time.perf_counter()
        for index, program in enumerate(programs):
            result = await call(client, program, session)
            if result["error"] is None:
                passed += 1
            else:
                failures.append(index)
            if index % 20 == 19:
                log(f"humaneval {index + 1}/{len(programs)}")
        figures["humaneval_pass"] = f"{passed}/{len(programs)}"
        figures["humaneval_failed"] = failures
        figures["humaneval_total_s"] = round(time.perf_counter() - started, 2)
        payload(await client.call_tool("close_session", {"session_id": session}))

    async with connect("code", args=["--warm-kernels", "0"]) as client:
        fresh = []
        for _ in range(cold_sessions):
            started = time.perf_counter()
            first = await call(client, TRIVIAL)
            fresh.append(time.perf_counter() - started)
            await client.call_tool("close_session", {"session_id": first["session_id"]})
        figures["cold_session_no_spare_ms"] = ms(statistics.median(fresh))
    return figures


def measure_plain(programs: list[str], runs: int) -> dict:
    """The baseline: each program in a fresh, unsandboxed `python -c`."""
    def once(code: str) -> tuple[float, bool]:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
        return time.perf_counter() - started, done.returncode == 0

    trivial = sorted(once(TRIVIAL)[0] for _ in range(runs))
    started = time.perf_counter()
    passed = sum(once(program)[1] for program in programs)
    return {
        "plain_subprocess_p50_ms": ms(statistics.median(trivial)),
        "plain_humaneval_pass": f"{passed}/{len(programs)}",
        "plain_humaneval_total_s": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 problems, fewer repetitions.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="The shared data folder.")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if not (args.data / "code" / "HumanEval.jsonl.gz").exists():
        print(json.dumps({"skipped": f"HumanEval not found under {args.data}/code"}))
        return
    programs = humaneval_programs(args.data, 20 if args.quick else None)
    load_before = os.getloadavg()[0]
    warm_calls, cold_sessions = (30, 2) if args.quick else (200, 5)
    log(f"sandbox: {len(programs)} HumanEval programs, {warm_calls} warm calls, {cold_sessions} cold sessions")
    figures = anyio.run(measure_sandbox, programs, warm_calls, cold_sessions)
    log("plain subprocess baseline")
    figures.update(measure_plain(programs, 10 if args.quick else 30))
    figures["warm_call_vs_plain_subprocess"] = round(figures["warm_call_p50_ms"] / figures["plain_subprocess_p50_ms"], 3)
    figures["humaneval_time_vs_plain"] = round(figures["humaneval_total_s"] / figures["plain_humaneval_total_s"], 3)
    figures["load_avg_1m"] = round(max(load_before, os.getloadavg()[0]), 1)  # 2 shared cores: context for the times
    figures["targets"] = {"humaneval_pass": "164/164", "warm_call_p50_ms": 15, "cold_session_ms": 1000}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

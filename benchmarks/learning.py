"""Learning benchmark: does the agent get better with its case bank, end to end?

    python -m benchmarks.learning [--quick] [--seeds N] [--arms off,similarity,learned] [--variant static|drift|both]

The real `memento eval` CLI runs a question set for several iterations with the real memory server
(stdio, MiniLM embeddings, a fresh bank per run), against a simulated OpenAI-compatible model
(`benchmarks.simulated_model`) that plays planner and executor in the world of
`benchmarks.learning_world`: look-alike question pairs whose working methods differ, and a planner that
imitates the method of a successful case shown in its prompt. Arms differ in the memory policy (and
memory-server flags or client settings); every arm meets the same world and the same luck per seed.

Variants: `static` runs `--iterations` passes; `drift` runs 2 passes, changes the working method of half
of the kinds (`World.drift`), then resumes the same run folder up to `--iterations`.

Progress goes to stderr, tables and the last line (one JSON object) to stdout; the curves are drawn to
benchmarks/figures/learning.png (`--quick`: learning-quick.png).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.learning_world import METHODS, P_LUCKY, P_RIGHT, tasks
from benchmarks.simulated_model import SimulatedModel, self_check

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "benchmarks" / "figures"
DRIFT_AFTER = 2  # iterations before the world drifts (variant drift)
OFF_RATE = (P_RIGHT + (len(METHODS) - 1) * P_LUCKY) / len(METHODS)  # EM of a planner guessing the method (memory off)


@dataclass(frozen=True)
class Arm:
    """One configuration under test: the client's memory policy, memory-server flags, client environment."""

    name: str
    memory: str  # off | similarity | learned (memento eval --memory)
    server_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)  # e.g. MEMENTO_CLIENT_CASES_TEMPERATURE

    @property
    def flags(self) -> list[str]:
        """The memory-server flags this arm needs the server to accept."""
        return [a.split("=", 1)[0] for a in self.server_args if a.startswith("--")]


ARMS = (
    Arm("off", "off"),
    Arm("similarity", "similarity"),
    Arm("learned", "learned"),
    Arm("learned+utility", "learned", ("--utility-weight", "1.0")),
    Arm("learned+credit", "learned", ("--utility-weight", "1.0", "--credit-depth", "2")),
    Arm("learned+explore", "learned", (), {"MEMENTO_CLIENT_CASES_TEMPERATURE": "0.2"}),
)
VARIANTS = ("static", "drift")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def memory_help() -> str:
    done = subprocess.run([sys.executable, "-m", "memento_memory", "--help"], check=False, capture_output=True, text=True, cwd=REPO)
    return done.stdout


def available_arms(wanted: list[str] | None) -> tuple[list[Arm], dict[str, str]]:
    """The arms to run (all by default) and the skipped ones with the reason."""
    known = {a.name: a for a in ARMS}
    unknown = [n for n in wanted or [] if n not in known]
    if unknown:
        raise SystemExit(f"unknown arm(s) {unknown}; known: {list(known)}")
    help_text = memory_help()
    runnable, skipped = [], {}
    for arm in [known[n] for n in wanted] if wanted else ARMS:
        missing = [f for f in arm.flags if not re.search(rf"(^|\s){re.escape(f)}\b", help_text)]
        if missing:
            skipped[arm.name] = f"the memory server does not accept {', '.join(missing)} (python -m memento_memory --help)"
            log(f"note: skipping arm {arm.name}: {skipped[arm.name]}")
        else:
            runnable.append(arm)
    return runnable, skipped


def memento_command() -> list[str]:
    """The `memento` CLI of this interpreter (its entry point, else the same function through -c)."""
    entry = Path(sys.executable).with_name("memento")
    if entry.exists():
        return [str(entry)]
    return [sys.executable, "-c", "from memento_client.cli import main; main()"]


def write_dataset(path: Path, per_kind: int, seed: int) -> int:
    found = tasks(per_kind, seed)
    with path.open("w", encoding="utf-8") as handle:
        for t in found:
            handle.write(json.dumps({"id": t.id, "question": t.question, "answers": [t.gold]}) + "\n")
    return len(found)


def clean_environment() -> dict[str, str]:
    """This process's environment without memento's or OpenAI's settings (no user config leaks in)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("MEMENTO_", "OPENAI_"))}


@dataclass
class EvalRun:
    """One arm on one seed in one variant: its folder, the mcp.json with its own bank, the eval calls."""

    arm: Arm
    seed: int
    variant: str
    folder: Path
    dataset: Path
    model_url: str
    concurrency: int
    calls: list[dict[str, Any]] = field(default_factory=list)  # per `memento eval` invocation: seconds, ...

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "home").mkdir(exist_ok=True)
        args = ["-m", "memento_memory", "--db", str(self.folder / "bank"), *self.arm.server_args]
        config = {"mcpServers": {"memory": {"command": sys.executable, "args": args, "cwd": str(REPO)}}}
        (self.folder / "mcp.json").write_text(json.dumps(config, indent=2))

    @property
    def out(self) -> Path:
        return self.folder / "run"

    def environment(self) -> dict[str, str]:
        return {
            **clean_environment(),
            "OPENAI_BASE_URL": self.model_url,
            "OPENAI_API_KEY": "x",
            "MEMENTO_CLIENT_MODEL": "sim",
            "MEMENTO_HOME": str(self.folder / "home"),
            "HF_HUB_OFFLINE": "1",
            **self.arm.env,
        }

    def eval(self, iterations: int) -> None:
        """`memento eval` up to `iterations` (resuming the run folder); its stderr goes to eval.log."""
        command = [
            *memento_command(), "eval", "--dataset", str(self.dataset), "--mcp-config", str(self.folder / "mcp.json"),
            "--memory", self.arm.memory, "--iterations", str(iterations), "--concurrency", str(self.concurrency),
            "--out", str(self.out), "--json",
        ]  # fmt: skip
        started = time.monotonic()
        first_result = None
        with (self.folder / "eval.log").open("a", encoding="utf-8") as errlog:
            errlog.write(f"$ {' '.join(command)}\n")
            errlog.flush()
            process = subprocess.Popen(
                command, cwd=self.folder, env=self.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            assert process.stderr is not None and process.stdout is not None
            for line in process.stderr:
                errlog.write(line)
                if first_result is None and line.startswith("[iter "):
                    first_result = time.monotonic() - started
            stdout = process.stdout.read()
            code = process.wait()
        seconds = time.monotonic() - started
        self.calls.append({"iterations": iterations, "seconds": round(seconds, 2), "first_result_s": _round(first_result)})
        if code != 0:
            raise RuntimeError(f"memento eval exited with {code} (see {self.folder / 'eval.log'}): {stdout[-500:]}")

    def em(self) -> list[float]:
        """EM per iteration, from the run's summary.json."""
        summary = json.loads((self.out / "summary.json").read_text())
        return [float(s["overall"].get("em", 0.0)) for s in sorted(summary, key=lambda s: s["iteration"])]

    def problems(self) -> dict[str, Any]:
        """What went wrong besides wrong answers: failed tasks, warnings in the eval and server logs."""
        rows = [json.loads(line) for p in sorted(self.out.glob("iter-*/results.jsonl")) for line in p.open()]
        failed = [r for r in rows if r.get("error") or r.get("stop_reason") != "answered"]
        unwritten = [r for r in rows if self.arm.memory != "off" and not r.get("case_id")]
        texts = [(self.folder / "eval.log").read_text()]
        texts += [p.read_text() for p in (self.out / "logs").glob("*.log")] if (self.out / "logs").exists() else []
        warnings = [line for t in texts for line in t.splitlines() if re.match(r"(WARNING|ERROR|CRITICAL)\b|Traceback", line)]
        return {
            "failed": len(failed),
            "cases_not_written": len(unwritten),
            "retrieve_failed": texts[0].count("retrieve_cases failed"),
            "write_failed": texts[0].count("write_case failed"),
            "log_warning_count": len(warnings),
            "log_warnings": sorted(set(warnings))[:5],
        }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def diagnostics(sim: SimulatedModel, iterations: int) -> dict[str, list[float | None]]:
    """Per iteration: share of attempts shown any successful case, shown the working method, right."""
    out: dict[str, list[float | None]] = {"shown_success": [], "shown_working": [], "followed_working": []}
    for n in range(iterations):
        at = [a for a in sim.log if a.attempt == n]
        out["shown_success"].append(_share(at, lambda a: bool(a.shown)))
        out["shown_working"].append(_share(at, lambda a: a.shown_working))
        out["followed_working"].append(_share(at, lambda a: a.method == a.working))
    return out


def _share(attempts: list[Any], pick: Any) -> float | None:
    return _round(sum(map(pick, attempts)) / len(attempts), 3) if attempts else None


def run_arm(sim: SimulatedModel, arm: Arm, seed: int, variant: str, work: Path, dataset: Path, args: argparse.Namespace) -> dict[str, Any]:
    run = EvalRun(arm, seed, variant, work / variant / arm.name / f"seed-{seed}", dataset, sim.url, args.concurrency)
    sim.reset(seed)
    started = time.monotonic()
    if variant == "drift":
        run.eval(min(DRIFT_AFTER, args.iterations))
        sim.drift()
        run.eval(args.iterations)
    else:
        run.eval(args.iterations)
    seconds = time.monotonic() - started
    em = run.em()
    if sim.unexpected:
        log(f"  simulated model could not place {len(sim.unexpected)} request(s), e.g. {sim.unexpected[0]}")
    result = {
        "em": em,
        "seconds": round(seconds, 1),
        "calls": run.calls,
        **diagnostics(sim, args.iterations),
        "problems": {**run.problems(), "unplaced_requests": len(sim.unexpected)},
        "folder": str(run.folder),
    }
    log(
        f"  {variant:6} {arm.name:16} seed {seed}: EM " + " ".join(f"{v:.2f}" for v in em)
        + f"  ({seconds:.0f} s, first result after {run.calls[0]['first_result_s']} s)"
    )  # fmt: skip
    return result


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def targets(means: dict[str, list[float]], last: dict[str, dict[str, float]], n_tasks: int, seeds: int) -> dict[str, Any]:
    """The checks at the last iteration; a check whose arms did not run is reported as not checked (None)."""
    out: dict[str, Any] = {}

    def check(name: str, rule: str, needed: tuple[str, ...], test) -> None:
        if any(a not in means for a in needed):
            out[name] = {"rule": rule, "pass": None, "why": "arm(s) not run"}
            return
        passed, detail = test()
        out[name] = {"rule": rule, "pass": bool(passed), **detail}

    L = {a: v[-1] for a, v in means.items()}
    check(
        "learned_vs_similarity",
        "mean over seeds at the last iteration: learned >= similarity + 0.10",
        ("learned", "similarity"),
        lambda: (L["learned"] >= L["similarity"] + 0.10 - 1e-9, {"difference": round(L["learned"] - L["similarity"], 4)}),
    )
    check(
        "learned_vs_off",
        "mean over seeds at the last iteration: learned >= off + 0.15",
        ("learned", "off"),
        lambda: (L["learned"] >= L["off"] + 0.15 - 1e-9, {"difference": round(L["learned"] - L["off"], 4)}),
    )
    check(
        "learned_vs_similarity_every_seed",
        "at the last iteration, learned >= similarity on every seed",
        ("learned", "similarity"),
        lambda: (
            all(last["learned"][s] >= last["similarity"][s] for s in last["learned"]),
            {"differences": {s: round(last["learned"][s] - last["similarity"][s], 4) for s in last["learned"]}},
        ),
    )

    def off_flat():
        first, final = means["off"][0], means["off"][-1]
        p = (first + final) / 2
        n = n_tasks * seeds
        bound = 2 * math.sqrt(2 * p * (1 - p) / n) if 0 < p < 1 else 0.0
        detail = {"first": first, "last": final, "bound": round(bound, 4), "expected_rate": round(OFF_RATE, 4)}
        return abs(final - first) <= bound + 1e-9, detail

    check(
        "off_flat",
        "off: |EM(last) - EM(first)| (means over seeds) <= 2 standard errors of a difference of two independent "
        "proportions, 2*sqrt(2*p*(1-p)/n), p their mean, n = tasks x seeds",
        ("off",),
        off_flat,
    )
    return out


def table(variant: str, results: dict[str, dict[int, dict[str, Any]]], iterations: int) -> str:
    seeds = sorted(next(iter(results.values())))
    head = "| arm | " + " | ".join(f"iter {i}" for i in range(1, iterations + 1)) + " | " + " | ".join(f"seed {s} (last)" for s in seeds) + " |"
    lines = [f"### {variant}" + (f" (the world drifts after iteration {DRIFT_AFTER})" if variant == "drift" else ""), "", head]
    lines.append("|---" * (1 + iterations + len(seeds)) + "|")
    for arm, by_seed in results.items():
        per_iter = [mean([by_seed[s]["em"][i] for s in seeds]) for i in range(iterations)]
        lines.append(
            f"| {arm} | " + " | ".join(f"{v:.3f}" for v in per_iter) + " | " + " | ".join(f"{by_seed[s]['em'][-1]:.3f}" for s in seeds) + " |"
        )
    return "\n".join(lines)


COLOURS = {"off": "tab:gray", "similarity": "tab:blue", "learned": "tab:red", "learned+utility": "tab:green", "learned+credit": "tab:purple", "learned+explore": "tab:orange"}


def plot(all_results: dict[str, dict[str, dict[int, dict[str, Any]]]], iterations: int, path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    variants = list(all_results)
    figure, axes = plt.subplots(1, len(variants), figsize=(4.8 * len(variants) + 1.8, 4.2), sharey=True, squeeze=False)
    spare = iter(["tab:orange", "tab:brown", "tab:pink", "tab:olive", "tab:cyan"])
    colours = dict(COLOURS)
    xs = list(range(1, iterations + 1))
    for ax, variant in zip(axes[0], variants):
        for arm, by_seed in all_results[variant].items():
            if arm not in colours:
                colours[arm] = next(spare, "black")
            colour = colours[arm]
            for s in sorted(by_seed):
                ax.plot(xs, by_seed[s]["em"], color=colour, alpha=0.25, linewidth=0.9)
            m = [mean([by_seed[s]["em"][i] for s in by_seed]) for i in range(iterations)]
            ax.plot(xs, m, color=colour, marker="o", linewidth=2, label=arm)
        if variant == "drift":
            ax.axvline(DRIFT_AFTER + 0.5, color="black", linestyle=":", linewidth=1)
            ax.text(DRIFT_AFTER + 0.55, 0.97, "world drifts", fontsize="small", va="top")
        ax.set_title(variant)
        ax.set_xlabel("iteration")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("exact match (mean over seeds; thin: each seed)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    figure.suptitle(f"memento eval learning curves, simulated model ({subtitle})", fontsize="medium")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer tasks, seeds and iterations (a few minutes).")
    parser.add_argument("--seeds", type=int, help="Seeds (worlds) per arm (default 3, quick 2).")
    parser.add_argument("--per-kind", type=int, help="Companies per look-alike pair (tasks = 6 x this; default 16, quick 4).")
    parser.add_argument("--iterations", type=int, help="Iterations per run (default 5, quick 4).")
    parser.add_argument("--concurrency", type=int, default=4, help="memento eval --concurrency.")
    parser.add_argument("--arms", help=f"Comma-separated arms of {[a.name for a in ARMS]} (default: every arm the memory server accepts).")
    parser.add_argument("--variant", choices=[*VARIANTS, "both"], help="static, drift or both (default both).")
    parser.add_argument("--figure", type=Path, help="PNG to draw (default benchmarks/figures/learning.png, quick learning-quick.png).")
    parser.add_argument("--work", type=Path, help="Folder for the runs (kept); default a temporary folder, deleted at the end.")
    args = parser.parse_args()
    args.seeds = args.seeds or (2 if args.quick else 3)
    args.per_kind = args.per_kind or (4 if args.quick else 16)
    args.iterations = args.iterations or (4 if args.quick else 5)
    variants = list(VARIANTS) if (args.variant or "both") == "both" else [args.variant]
    figure = args.figure or FIGURES / ("learning-quick.png" if args.quick else "learning.png")

    self_check()
    arms, skipped = available_arms([a.strip() for a in args.arms.split(",")] if args.arms else None)
    if not arms:
        raise SystemExit("no arm to run")
    work = args.work or Path(tempfile.mkdtemp(prefix="memento-learning-"))
    work.mkdir(parents=True, exist_ok=True)
    sim = SimulatedModel()
    stop = sim.start()
    seeds = list(range(args.seeds))
    n_tasks = 0
    results: dict[str, dict[str, dict[int, dict[str, Any]]]] = {v: {a.name: {} for a in arms} for v in variants}
    started = time.monotonic()
    total_runs = len(variants) * len(arms) * len(seeds)
    log(
        f"learning benchmark: {total_runs} eval runs ({len(variants)} variant(s) x {len(arms)} arm(s) x {len(seeds)} seed(s)), "
        f"{6 * args.per_kind} tasks x {args.iterations} iterations each; model at {sim.url}; runs in {work}"
    )
    try:
        for seed in seeds:
            dataset = work / f"learning-s{seed}.jsonl"
            n_tasks = write_dataset(dataset, args.per_kind, seed)
            for variant in variants:
                for arm in arms:
                    results[variant][arm.name][seed] = run_arm(sim, arm, seed, variant, work, dataset, args)
    finally:
        stop()
    seconds = time.monotonic() - started

    summary: dict[str, Any] = {}
    for variant in variants:
        by_arm = results[variant]
        means = {a: [round(mean([r[s]["em"][i] for s in seeds]), 4) for i in range(args.iterations)] for a, r in by_arm.items()}
        last = {a: {str(s): r[s]["em"][-1] for s in seeds} for a, r in by_arm.items()}
        diag = {
            a: {k: [_round(mean([r[s][k][i] for s in seeds if r[s][k][i] is not None]), 3) for i in range(args.iterations)]
                for k in ("shown_success", "shown_working", "followed_working")}
            for a, r in by_arm.items()
        }  # fmt: skip
        summary[variant] = {
            "mean_em": means,
            "last_em_by_seed": last,
            "targets": targets(means, {a: {s: v for s, v in d.items()} for a, d in last.items()}, n_tasks, len(seeds)),
            "diagnostics": diag,
        }
        print(table(variant, by_arm, args.iterations) + "\n")
        for name, t in summary[variant]["targets"].items():
            verdict = "not checked" if t["pass"] is None else ("PASS" if t["pass"] else "FAIL")
            print(f"- {variant} {name}: {verdict} ({t['rule']}; {({k: v for k, v in t.items() if k not in ('rule', 'pass')})})")
        print()
    plot(results, args.iterations, figure, f"{n_tasks} tasks, {len(seeds)} seeds, P_RIGHT {P_RIGHT}, P_LUCKY {P_LUCKY}")
    log(f"figure: {figure}")

    run_seconds = [r["seconds"] for v in results.values() for by_seed in v.values() for r in by_seed.values()]
    calls = [c for v in results.values() for by_seed in v.values() for r in by_seed.values() for c in r["calls"]]
    problems = {
        f"{v}/{a}/seed-{s}": r["problems"]
        for v, by_arm in results.items() for a, by_seed in by_arm.items() for s, r in by_seed.items()
        if r["problems"]["failed"] or r["problems"]["log_warning_count"] or r["problems"]["unplaced_requests"] or r["problems"]["cases_not_written"]
    }  # fmt: skip
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    output = {
        "benchmark": "learning",
        "quick": args.quick,
        "config": {
            "tasks": n_tasks, "per_kind": args.per_kind, "seeds": seeds, "iterations": args.iterations,
            "concurrency": args.concurrency, "variants": variants, "drift_after": DRIFT_AFTER, "p_right": P_RIGHT, "p_lucky": P_LUCKY,
        },
        "arms": {a.name: {"memory": a.memory, "server_args": list(a.server_args), "env": a.env} for a in arms},
        "skipped_arms": skipped,
        "variants": summary,
        "seconds": {
            "total": round(seconds, 1),
            "per_run_mean": round(mean(run_seconds), 1),
            "per_run_max": max(run_seconds),
            "per_run_by_arm": {
                f"{v}/{a}": round(mean([r["seconds"] for r in by_seed.values()]), 1) for v, by_arm in results.items() for a, by_seed in by_arm.items()
            },
            "first_result_s_mean": _round(mean([c["first_result_s"] for c in calls if c["first_result_s"] is not None])),
        },
        "problems": problems,
        "figure": str(figure),
    }
    print(json.dumps(output))


if __name__ == "__main__":
    main()

"""Scoring an eval run: metrics per source and overall per iteration, a markdown report and a PNG learning curve."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from memento_client.eval.runfiles import RESULTS, iteration_dirs, iteration_number, read_config, read_jsonl, read_tasks

METRICS = ("em", "f1", "pm")


def summarize(rows: list[dict[str, Any]], tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Mean EM/F1 (and PM when every row was judged) overall and per data source. Failed tasks score 0;
    with the run's question set `tasks`, so does a question without a result row (counted as `missing`)."""
    latest = {row.get("id"): row for row in rows}  # one row per task
    rows = list(latest.values())
    absent = [t for t in tasks or [] if t["id"] not in latest]

    def means(group: list[dict[str, Any]], missing: int) -> dict[str, Any]:
        out: dict[str, Any] = {"n": len(group) + missing}
        for metric in METRICS:
            values = [r.get(metric) for r in group]
            if out["n"] and all(v is not None for v in values) and (group or metric != "pm"):
                out[metric] = round(sum(values) / out["n"], 4)
        out["failed"] = sum(1 for r in group if r.get("error") or r.get("answer") is None)
        out["missing"] = missing
        return out

    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    missing_by_source: dict[str, int] = defaultdict(int)
    for row in rows:
        by_source[row.get("source", "?")].append(row)
    for task in absent:
        missing_by_source[task.get("source", "?")] += 1
    sources = sorted({*by_source, *missing_by_source})
    return {
        "overall": means(rows, len(absent)),
        "by_source": {s: means(by_source[s], missing_by_source[s]) for s in sources},
    }


def run_summary(run: Path) -> list[dict[str, Any]]:
    """One summary per iteration of the run at `run`, over its recorded question set when there is one."""
    tasks = read_tasks(run)
    return [{"iteration": iteration_number(d), **summarize(read_jsonl(d / RESULTS), tasks)} for d in iteration_dirs(run)]


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("-" if value is None else str(value))


def memory_label(config: dict[str, Any]) -> str:
    """The run's memory policy, with the learned policy's exploration temperature."""
    memory = str(config.get("memory", "?"))
    return f"{memory} (temperature {config.get('cases_temperature', 0.0):g})" if memory == "learned" else memory


def _same_task(config: dict[str, Any]) -> str:
    if config.get("same_task_cases") == "allowed":
        return "allowed (--allow-same-task: a question may retrieve its own earlier cases and answers)"
    return "excluded (no question retrieves its own earlier cases)"


def _curve(title: str, summaries: list[dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", "| iteration | n | EM | F1 | PM | failed | missing |", "|---|---|---|---|---|---|---|"]
    for s in summaries:
        o = s["overall"]
        scores = " | ".join(_fmt(o.get(m)) for m in METRICS)
        lines.append(f"| {s['iteration']} | {o['n']} | {scores} | {o['failed']} | {o.get('missing', 0)} |")
    return [*lines, ""]


def markdown(
    run: Path, summaries: list[dict[str, Any]], config: dict[str, Any], baselines: dict[str, list[dict[str, Any]]] | None = None
) -> str:
    lines = [f"# memento eval: {run.name}", ""]
    lines += [f"- dataset: `{config.get('dataset')}` (limit {config.get('limit')}, seed {config.get('seed')})"]
    lines += [f"- memory: {memory_label(config)}, iterations: {config.get('iterations')}, concurrency: {config.get('concurrency')}"]
    lines += [f"- same-task cases: {_same_task(config)}"]
    lines += [f"- models: {config.get('models')}", ""]
    lines += _curve(f"Learning curve (overall, memory {memory_label(config)})", summaries)
    for name, series in (baselines or {}).items():
        lines += _curve(f"Baseline {name}", series)
    if summaries:
        last = summaries[-1]
        lines += [f"## Per data source (iteration {last['iteration']})", "", "| source | n | EM | F1 | PM |", "|---|---|---|---|---|"]
        for source, m in last["by_source"].items():
            lines.append(f"| {source} | {m['n']} | {_fmt(m.get('em'))} | {_fmt(m.get('f1'))} | {_fmt(m.get('pm'))} |")
    lines += ["", "Unanswered, failed and missing (never finished) tasks count as wrong. ![learning curve](learning_curve.png)", ""]
    return "\n".join(lines)


def plot(summaries: list[dict[str, Any]], path: Path, title: str, baselines: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Accuracy per iteration (EM, F1, PM); other runs (e.g. memory off) dashed in the same colours,
    a one-iteration run as a flat line across the plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    colours = dict(zip(METRICS, ("tab:blue", "tab:orange", "tab:green")))
    figure, axes = plt.subplots(figsize=(6, 4))
    span = [s["iteration"] for s in summaries] or [1]
    for label, series, style in [("", summaries, "-"), *((f" ({k})", v, "--") for k, v in (baselines or {}).items())]:
        iterations = [s["iteration"] for s in series]
        for metric in METRICS:
            values = [s["overall"].get(metric) for s in series]
            if not values or any(v is None for v in values):
                continue
            if len(values) == 1 and style == "--":
                iterations, values = [min(span), max(span)], values * 2
            axes.plot(iterations, values, style, color=colours[metric], marker="o", label=metric.upper() + label)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("iteration")
    axes.set_ylabel("score")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _label(run: Path) -> str:
    config = read_config(run)
    return f"{run.name}, memory {memory_label(config)}"


def write_report(run: Path, baselines: list[Path] = ()) -> dict[str, Any]:
    """summary.json, report.md and learning_curve.png in `run`; returns the summary."""
    config = read_config(run)
    summaries = run_summary(run)
    others = {_label(b): run_summary(b) for b in baselines}
    (run / "summary.json").write_text(json.dumps(summaries, indent=2))
    (run / "report.md").write_text(markdown(run, summaries, config, others))
    plot(summaries, run / "learning_curve.png", f"memento eval {run.name} (memory {memory_label(config)})", others)
    return {"iterations": summaries}

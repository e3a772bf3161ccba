"""Scoring an eval run: metrics per source and overall per iteration, a markdown report, and the PNG
learning curve (`plot`)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from memento_client.eval.plot import plot
from memento_client.eval.runfiles import (
    MEMORY_STATS,
    RESULTS,
    iteration_dirs,
    iteration_number,
    read_config,
    read_json,
    read_jsonl,
    read_tasks,
)

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


def _at(series: list[dict[str, Any]], iteration: int) -> dict[str, Any] | None:
    """A baseline's overall scores at `iteration`; a one-iteration baseline stands for every iteration."""
    if len(series) == 1:
        return series[0]["overall"]
    return next((s["overall"] for s in series if s["iteration"] == iteration), None)


def _difference(ours: dict[str, Any], theirs: dict[str, Any] | None) -> str:
    """This run's EM and F1 minus a baseline's, e.g. `+0.250 / +0.100`."""
    parts = []
    for metric in ("em", "f1"):
        mine, other = ours.get(metric), (theirs or {}).get(metric)
        parts.append("-" if mine is None or other is None else f"{mine - other:+.3f}")
    return " / ".join(parts)


def _curve(title: str, summaries: list[dict[str, Any]], baselines: dict[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """The per-iteration table; with baselines, a column per baseline of the EM / F1 differences."""
    against = baselines or {}
    header = ["iteration", "n", "EM", "F1", "PM", "failed", "missing", *(f"EM / F1 vs {name}" for name in against)]
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        o = s["overall"]
        cells = [s["iteration"], o["n"], *(_fmt(o.get(m)) for m in METRICS), o["failed"], o.get("missing", 0)]
        cells += [_difference(o, _at(series, s["iteration"])) for series in against.values()]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return [*lines, ""]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = "-" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)
    return str(text).replace("|", "\\|")


def _bank(stats: dict[str, Any]) -> list[str]:
    """The case bank and learned policy when the run ended, every field as recorded (new ones included)."""
    lines = ["## Case bank and learned policy", "", "When the run ended (`memory_stats.json`; cases other runs wrote to the same bank count too).", ""]
    lines += ["| case bank | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in stats.items() if k != "scorer"), ""]
    lines += ["| learned policy | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in (stats.get("scorer") or {}).items()), ""]
    return lines


def markdown(
    run: Path,
    summaries: list[dict[str, Any]],
    config: dict[str, Any],
    baselines: dict[str, list[dict[str, Any]]] | None = None,
    memory_stats: dict[str, Any] | None = None,
) -> str:
    lines = [f"# memento eval: {run.name}", ""]
    lines += [f"- dataset: `{config.get('dataset')}` (limit {config.get('limit')}, seed {config.get('seed')})"]
    lines += [f"- memory: {memory_label(config)}, iterations: {config.get('iterations')}, concurrency: {config.get('concurrency')}"]
    lines += [f"- same-task cases: {_same_task(config)}"]
    lines += [f"- models: {config.get('models')}", ""]
    lines += _curve(f"Learning curve (overall, memory {memory_label(config)})", summaries, baselines)
    for name, series in (baselines or {}).items():
        lines += _curve(f"Baseline {name}", series)
    if summaries:
        last = summaries[-1]
        lines += [f"## Per data source (iteration {last['iteration']})", "", "| source | n | EM | F1 | PM |", "|---|---|---|---|---|"]
        for source, m in last["by_source"].items():
            lines.append(f"| {source} | {m['n']} | {_fmt(m.get('em'))} | {_fmt(m.get('f1'))} | {_fmt(m.get('pm'))} |")
        lines.append("")
    if memory_stats is not None:
        lines += _bank(memory_stats)
    lines += ["Unanswered, failed and missing (never finished) tasks count as wrong. ![learning curve](learning_curve.png)", ""]
    return "\n".join(lines)


def _label(run: Path) -> str:
    config = read_config(run)
    return f"{run.name}, memory {memory_label(config)}"


def write_report(run: Path, baselines: list[Path] = ()) -> dict[str, Any]:
    """summary.json, report.md and learning_curve.png in `run`; returns the summary."""
    config = read_config(run)
    summaries = run_summary(run)
    others = {_label(b): run_summary(b) for b in baselines}
    (run / "summary.json").write_text(json.dumps(summaries, indent=2))
    (run / "report.md").write_text(markdown(run, summaries, config, others, read_json(run / MEMORY_STATS)))
    plot({_label(run): summaries, **others}, run / "learning_curve.png", f"memento eval {run.name}")
    return {"iterations": summaries}

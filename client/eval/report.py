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
    SUMMARY,
    iteration_dirs,
    iteration_number,
    read_config,
    read_json,
    read_jsonl,
    read_tasks,
)

METRICS = ("acc", "em", "f1", "pm")  # acc: the benchmark's own score (GAIA, multiple choice, AIME, HLE's judge)


def _failed(row: dict[str, Any]) -> bool:
    return bool(row.get("error")) or row.get("answer") is None


def _merge_attempts(attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """One task's attempts as one row: each metric the best attempt's (pass@k), `<metric>@1` their mean."""
    merged = {k: attempts[0].get(k) for k in ("id", "source", "group")}
    merged["failed"] = all(map(_failed, attempts))
    for metric in METRICS:
        values = [a.get(metric) for a in attempts]
        if all(v is not None for v in values):
            merged[metric], merged[f"{metric}@1"] = max(values), sum(values) / len(values)
    return merged


def _means(group: list[dict[str, Any]], missing: int, attempts: int, scored: set[str]) -> dict[str, Any]:
    """Means over the group's tasks and its missing ones; `scored`: the metrics the whole run has."""
    out: dict[str, Any] = {"n": len(group) + missing}
    for metric in METRICS:
        names = [metric, f"{metric}@1"] if attempts > 1 else [metric]
        for name in names:
            values = [r.get(name) for r in group]
            if out["n"] and all(v is not None for v in values) and (group or metric in scored):
                out[name] = round(sum(values) / out["n"], 4)
    out["failed"] = sum(1 for r in group if r["failed"])
    out["missing"] = missing
    return out


def _breakdown(rows: list[dict[str, Any]], absent: list[dict[str, Any]], key: str, attempts: int, scored: set[str]) -> dict[str, Any]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    missing: dict[str, int] = defaultdict(int)
    for row in rows:
        found[str(row.get(key) or "?")].append(row)
    for task in absent:
        missing[str(task.get(key) or "?")] += 1
    return {name: _means(found[name], missing[name], attempts, scored) for name in sorted({*found, *missing})}


def summarize(rows: list[dict[str, Any]], tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Mean scores (PM only when every row was judged) overall, per data source and, where tasks have
    one, per group (GAIA level, subject). With several attempts per task, each score is pass@k (the best
    attempt) and `<score>@1` the mean over attempts. Failed tasks score 0; with the run's question set
    `tasks`, so does a question without a result row (counted as `missing`)."""
    by_task: dict[Any, dict[int, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        by_task[row.get("id")][row.get("attempt", 1)] = row  # one row per attempt: the last written
    attempts = max((len(a) for a in by_task.values()), default=1)
    merged = [_merge_attempts(list(a.values())) for a in by_task.values()]
    absent = [t for t in tasks or [] if t["id"] not in by_task]
    scored = {"em", "f1"} | {m for m in METRICS if merged and all(m in r for r in merged)}
    summary = {"overall": _means(merged, len(absent), attempts, scored), "by_source": _breakdown(merged, absent, "source", attempts, scored)}
    if any(r.get("group") for r in merged) or any(t.get("group") for t in absent):
        summary["by_group"] = _breakdown(merged, absent, "group", attempts, scored)
    return {**summary, "attempts": attempts} if attempts > 1 else summary


def run_summary(run: Path) -> list[dict[str, Any]]:
    """One summary per iteration of the run at `run`, over its recorded question set when there is one."""
    tasks = read_tasks(run)
    return [{"iteration": iteration_number(d), **summarize(read_jsonl(d / RESULTS), tasks)} for d in iteration_dirs(run)]


SCORING = {
    "qa": "EM and F1 (SQuAD-normalised, best gold alias) and PM (the judge, when configured)",
    "gaia": "ACC: GAIA's quasi-exact match (numbers, lists, normalised strings)",
    "gpqa": "ACC: the option letter read from the answer (options shuffled by seed)",
    "mmlu-pro": "ACC: the option letter read from the answer (options shuffled by seed)",
    "aime": "ACC: the integer answer equals the gold integer",
    "hle": "ACC: the judge's verdict (PM), as HLE's authors grade",
    "vqa": "EM and F1 against the annotators' answers and PM (the judge, when configured)",
}


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


def _columns(scores: list[dict[str, Any]]) -> list[str]:
    """The score columns of a table: EM, F1, PM always; ACC and the @1 means when some row has them."""
    def present(*names: str) -> list[str]:
        return [name for name in names if any(name in s for s in scores)]

    return [*present("acc", "acc@1"), "em", "f1", "pm", *present("em@1", "f1@1", "pm@1")]


def _curve(title: str, summaries: list[dict[str, Any]], baselines: dict[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """The per-iteration table; with baselines, a column per baseline of the EM / F1 differences."""
    against = baselines or {}
    columns = _columns([s["overall"] for s in summaries])
    header = ["iteration", "n", *(c.upper() for c in columns), "failed", "missing", *(f"EM / F1 vs {name}" for name in against)]
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in summaries:
        o = s["overall"]
        cells = [s["iteration"], o["n"], *(_fmt(o.get(m)) for m in columns), o["failed"], o.get("missing", 0)]
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


def _table(title: str, key: str, scores: dict[str, dict[str, Any]]) -> list[str]:
    columns = _columns(list(scores.values()))
    header = [key, "n", *(c.upper() for c in columns)]
    lines = [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([name, str(m["n"]), *(_fmt(m.get(c)) for c in columns)]) + " |" for name, m in scores.items()]
    return [*lines, ""]


def _protocol(config: dict[str, Any]) -> list[str]:
    """The benchmark, its scoring, attempts and preset, as recorded."""
    lines = [f"- benchmark: {config.get('benchmark', 'qa')}, scored by {SCORING.get(config.get('benchmark', 'qa'), SCORING['qa'])}"]
    if (attempts := config.get("attempts", 1)) > 1:
        lines.append(f"- attempts: {attempts} per task and iteration; each score is pass@{attempts} (best attempt), `@1` the mean over attempts")
    if config.get("preset"):
        lines.append(f"- preset: {config['preset']['name']} ({', '.join(f'{k} {v}' for k, v in config['preset']['protocol'].items())})")
    if config.get("vision") is not None:
        lines.append(f"- vision: {'images sent to the model' if config['vision'] else 'off (images not sent)'}")
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
    lines += [f"- same-task cases: {_same_task(config)}", *_protocol(config)]
    lines += [f"- models: {config.get('models')}", ""]
    lines += _curve(f"Learning curve (overall, memory {memory_label(config)})", summaries, baselines)
    for name, series in (baselines or {}).items():
        lines += _curve(f"Baseline {name}", series)
    if summaries:
        last = summaries[-1]
        lines += _table(f"Per data source (iteration {last['iteration']})", "source", last["by_source"])
        if "by_group" in last:
            lines += _table(f"Per level / subject (iteration {last['iteration']})", "group", last["by_group"])
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
    (run / SUMMARY).write_text(json.dumps(summaries, indent=2))
    (run / "report.md").write_text(markdown(run, summaries, config, others, read_json(run / MEMORY_STATS)))
    plot({_label(run): summaries, **others}, run / "learning_curve.png", f"memento eval {run.name}")
    return {"iterations": summaries}

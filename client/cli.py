"""`memento`: ask a question, evaluate on a dataset, list, replay and rate runs, list the servers."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from memento_client.config import ClientConfig, load_config, with_served_model
from memento_client.eval import runs
from memento_client.eval.datasets import BENCHMARKS
from memento_client.eval.presets import PRESETS
from memento_client.eval.runfiles import read_config
from memento_client.hostconfig import FORMATS, HOSTS_WITH_ROOTS, check_format, host_config, installed, launches
from memento_client.mcp.config import ServerEntry, load_mcp_config
from memento_client.mcp.host import resolve_command, server_environment
from memento_client.servers import installed_servers
from memento_client.ui import command as ui_command
from memento_core.errors import ConfigError, MementoError
from memento_core.version import extra_advice, package_version

if TYPE_CHECKING:
    from memento_client.loop.agent import AgentResult

log = logging.getLogger(__name__)


class _HelpFormatter(argparse.HelpFormatter):
    """Help that shows each option's default, where it has a meaningful one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, [], argparse.SUPPRESS) or "default" in text or not action.option_strings:
            return text
        return f"{text} (default: %(default)s)"


def _setting_help(text: str, field: str) -> str:
    """Help of a flag whose default comes from `ClientConfig` (flags > environment > config file > default)."""
    default = ClientConfig.model_fields[field].default
    return text if default is None else f"{text} (default: {default})"


def _model_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model and servers (else MEMENTO_CLIENT_*, OPENAI_*, [client] in the config file)")
    group.add_argument("--model", help="Model for every role.")
    group.add_argument("--planner-model", help="Model of the planner.")
    group.add_argument("--executor-model", help="Model of the executor.")
    group.add_argument("--judge-model", help="Model of the LLM judge (PM metric); unset: no judge.")
    group.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1.")
    group.add_argument("--mcp-config", type=Path, help="mcp.json to use (default ./mcp.json, else embedded).")
    group.add_argument("--config", type=Path, help="TOML config file.")
    group.add_argument("--memory", choices=["off", "similarity", "learned"], help=_setting_help("Case retrieval policy.", "memory"))
    group.add_argument(
        "--cases-temperature",
        type=float,
        help=_setting_help("learned memory: > 0 samples the cases (exploration), 0 takes the best.", "cases_temperature"),
    )
    group.add_argument("--max-cycles", type=int, help=_setting_help("Plan-execute cycles per task.", "max_cycles"))
    group.add_argument("--max-steps", type=int, help=_setting_help("Model calls per task.", "max_steps"))
    group.add_argument("--max-cost-usd", type=float, help=_setting_help("Cost per task in USD.", "max_cost_usd"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memento", description="A planner-executor agent over MCP servers that learns from its cases.", formatter_class=_HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"memento {package_version()}")
    parser.add_argument("--log-level", default="WARNING", help="Log level (logs go to stderr).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser = partial(sub.add_parser, formatter_class=_HelpFormatter)  # type: ignore[method-assign]

    ask = sub.add_parser("ask", help="Answer a question with the agent.")
    ask.add_argument("question")
    ask.add_argument("--file", type=Path, action="append", default=[], help="A file the question is about.")
    ask.add_argument("--corpus", type=Path, help="Index this folder into the local search index and search it first.")
    ask.add_argument("--gold", action="append", default=[], help="The correct answer (repeat for aliases): scores the answer (EM/F1, PM with a judge) and gives the case its reward.")
    ask.add_argument("--json", action="store_true", help="Print the result as JSON, no live view.")
    ask.add_argument("--quiet", action="store_true", help="Only the answer: no live view, no progress, no reward line.")
    _model_flags(ask)

    ev = sub.add_parser("eval", help="Evaluate on a question set, with the case bank carried across iterations.")
    ev.add_argument(
        "--dataset",
        type=Path,
        required=True,
        help="QA JSONL/CSV (answers / ground_truth; SimpleQA, FRAMES) or a benchmark's own files: a GAIA folder, "
        "HLE, GPQA, MMLU-Pro, AIME or VQA in JSONL, JSON, CSV or parquet.",
    )
    ev.add_argument("--benchmark", choices=BENCHMARKS, help="The dataset's layout and scoring (default: detected from its fields).")
    ev.add_argument("--limit", type=int, help="First N questions (or N sampled with --seed).")
    ev.add_argument("--seed", type=int, help="Sample the questions with this seed (it also shuffles multiple-choice options).")
    ev.add_argument("--iterations", type=int, help="Passes over the set; the case bank carries over (default 1, or the preset's).")
    ev.add_argument("--attempts", type=int, help="Independent attempts per task and iteration: scores are pass@k (default 1, or the preset's).")
    ev.add_argument("--preset", choices=sorted(PRESETS), help="The paper's protocol for the benchmark (iterations, attempts, K=4 cases, judge).")
    ev.add_argument("--concurrency", type=int, default=4, help="Tasks in flight.")
    ev.add_argument("--out", type=Path, help="Run folder (an existing one resumes).")
    ev.add_argument(
        "--allow-same-task",
        action="store_true",
        help="Let a question retrieve its own earlier cases (the paper's protocol; inflates later iterations).",
    )
    ev.add_argument("--baseline", type=Path, action="append", default=[], help="Another run to draw beside (e.g. memory off).")
    ev.add_argument("--vision", action="store_true", default=None, help="The model takes image input: send the tasks' images to it.")
    ev.add_argument("--ray", nargs="?", const="", metavar="ADDRESS", help="Fan the tasks out on Ray (a local Ray without ADDRESS; extra [scale]).")
    ev.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    ev.add_argument("--quiet", action="store_true", help="No start line and no progress lines on stderr.")
    _model_flags(ev)

    runs_parser = sub.add_parser("runs", help="List past runs.")
    runs_parser.add_argument("--json", action="store_true", help="Print the runs as JSON.")
    show = sub.add_parser("show", help="Replay a run's trajectories.")
    show.add_argument("run", help="Run name (see `memento runs`) or folder.")
    show.add_argument("task", nargs="?", help="Task id or 1-based index.")
    show.add_argument("--json", action="store_true")
    rate = sub.add_parser("rate", help="Turn your verdict on an answer into its case's reward (the case bank learns from it).")
    rate.add_argument("run", help="Run name (see `memento runs`) or folder.")
    rate.add_argument("task", nargs="?", help="Task id or 1-based index (not needed for a one-task run, as `ask` makes).")
    rate.add_argument("verdict", help="good (reward 1), bad (0), or a score from 0 to 1.")
    rate.add_argument("--mcp-config", type=Path, help="mcp.json with the memory server (default: the one the run used).")
    rate.add_argument("--config", type=Path, help="TOML config file.")
    servers = sub.add_parser("servers", help="List the MCP servers and how to start each, or print a host's config for them.")
    servers.add_argument(
        "--format", choices=list(FORMATS), help="Print a ready config for this host: " + "; ".join(f"{k}: {v}" for k, v in FORMATS.items())
    )
    servers.add_argument("--http", action="store_true", help="--format: entries for servers started with --transport http, token as a placeholder.")
    servers.add_argument(
        "--root", type=Path, action="append", default=[], help="--format: a folder the documents server may read (repeatable; default: the current folder, or for "
        "vscode the workspace folders VS Code gives it as MCP roots)."
    )
    ui_command.add_parser(sub)
    return parser


def _config(args: argparse.Namespace) -> ClientConfig:
    keys = ("model", "planner_model", "executor_model", "judge_model", "base_url", "mcp_config", "memory",
            "cases_temperature", "max_cycles", "max_steps", "max_cost_usd", "vision")  # fmt: skip
    return load_config({k: getattr(args, k, None) for k in keys}, getattr(args, "config", None))


def _model_config(args: argparse.Namespace) -> ClientConfig:
    """The config of a command that needs a model: one is configured, or the endpoint serves exactly one."""
    config = with_served_model(_config(args))
    config.require_models()
    return config


def index_corpus(entry: ServerEntry, folder: Path, quiet: bool = False) -> None:
    """`memento-search index FOLDER` with the search server's own command and settings (incremental), under a
    spinner; its report becomes one line on stderr, and its logs and progress bars stay out of the terminal."""
    if entry.is_http:
        raise ConfigError("--corpus needs the search server as a local (stdio) command in mcp.json")
    command = [resolve_command(entry.command or ""), *entry.args, "index", str(folder), "--quiet", "--log-level", "WARNING"]
    status = None if quiet else _status(f"indexing {folder} into the local search index (the first run loads the embedding model)…")
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=server_environment(entry), cwd=entry.cwd)
    finally:
        if status is not None:
            status.stop()
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise ConfigError(f"indexing {folder} failed: {why}")
    if not quiet:
        report = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"memento: indexed {folder}: {report['files_indexed']} new or changed of {report['files_seen']} files, "
            f"{report['total_chunks']} passages, {report['seconds']:.0f} s",
            file=sys.stderr,
        )


def _status(text: str) -> Any:
    """A spinner on stderr (a plain line when stderr is not a terminal); `.stop()` it."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        print(f"memento: {text}", file=sys.stderr, flush=True)
        return None
    status = console.status(f"[dim]{text}[/dim]")
    status.start()
    return status


def ask_entries(entries: list[ServerEntry], files: Sequence[Path]) -> list[ServerEntry]:
    """Let the documents server read the attached files' folders."""
    roots = [arg for folder in dict.fromkeys(str(f.parent) for f in files) for arg in ("--root", folder)]
    return [e.with_args(*roots) if e.name == "documents" and not e.is_http and roots else e for e in entries]


def cmd_ask(args: argparse.Namespace) -> int:
    from memento_client.commands import ask

    config = _model_config(args)
    files = [f.resolve() for f in args.file]
    for f in files:
        if not f.is_file():
            raise ConfigError(f"--file {f}: no such file")
    entries = ask_entries(load_mcp_config(config.mcp_config), files)
    notes = [f"Attached file: {f} (read it with the documents tool)." for f in files]
    if args.corpus:
        corpus = args.corpus.resolve()
        search = next((e for e in entries if e.name == "search"), None)
        if search is None or not corpus.is_dir():
            raise ConfigError("--corpus needs a folder and a 'search' server in mcp.json")
        index_corpus(search, corpus, args.quiet)
        notes.append(f"The user's documents in {corpus} are in the local search index: search them (local backend) first.")
    folder, result = anyio.run(ask, config, entries, args.question, notes, not (args.json or args.quiet), args.gold)
    if args.json:
        print(json.dumps({**result.as_dict(), "run": folder.name}, ensure_ascii=False, default=str))
    else:
        print(result.answer if result.answer is not None else f"(no answer: {result.stop_reason})")
        if not args.quiet:
            print(reward_line(folder.name, result), file=sys.stderr)  # stdout carries the answer alone
    return 0 if result.answer is not None else 1


def reward_line(run: str, result: AgentResult) -> str:
    """How the answer was scored, and whether its case was written (and how to rate it), in one line."""
    if result.reward is None:
        return "reward: none (no --gold and no --judge-model), so no case was written"
    scores = ", ".join(f"{name.upper()} {value:.2f}" for name, value in (result.metrics or {}).items()) or "judge"
    written = f"case {result.case_id}; correct it with `memento rate {run} good|bad`" if result.case_id else "no case written"
    return f"reward {result.reward:.2f} ({scores}); {written}"


def cmd_eval(args: argparse.Namespace) -> int:
    from memento_client.commands import evaluate

    config = _model_config(args)
    summary = anyio.run(evaluate, config, args)
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        for s in summary["iterations"]:
            o = s["overall"]
            metrics = "  ".join(f"{k.upper()} {o[k]:.3f}" for k in ("acc", "em", "f1", "pm") if k in o)
            print(f"iteration {s['iteration']}: n={o['n']}  {metrics}  failed={o['failed']}  missing={o['missing']}")
        print(f"report: {summary['out']}/report.md")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    rows = runs.list_runs()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print(f"no runs yet under {runs.runs_root()}")
    for r in rows:
        scores = f"ACC {r['acc']:.3f} " if r.get("acc") is not None else ""
        scores += f"EM {r['em']:.3f} F1 {r['f1']:.3f}" if r["em"] is not None else ""
        print(f"{r['run']:28} {r['kind']:5} {r['created']}  iter {r['iterations']}  tasks {r['tasks']:4}  {scores}  {str(r['what'])[:50]}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from rich.console import Console

    from memento_client.loop.events import from_dict
    from memento_client.view import LiveView

    found = runs.trajectories(runs.find_run(args.run), args.task)
    if args.json:
        print(json.dumps(found, ensure_ascii=False, default=str))
        return 0
    view = LiveView(Console(highlight=False))
    for row in found:
        view.console.print(f"[bold]iteration {row['iteration']} · task {row['id']}[/bold]: {row['question']}")
        for event in filter(None, map(from_dict, row["events"])):
            view(event)
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from memento_client.eval.rating import parse_verdict, rate, rated_case
    from memento_client.session import tool_session

    reward = parse_verdict(args.verdict)
    folder = runs.find_run(args.run)
    task, iteration, case_id = rated_case(folder, args.task)
    config = _config(args)  # no model needed: only the memory server is called
    recorded = read_config(folder).get("mcp_config")
    entries = load_mcp_config(args.mcp_config or (Path(recorded) if recorded else None))

    async def rating() -> dict[str, Any]:
        async with tool_session(config, entries=entries, log_dir=folder / "logs") as host:
            return await rate(host, folder, task, iteration, case_id, reward)

    done = anyio.run(rating)
    print(f"{folder.name} task {task} (iteration {iteration}): case {case_id} reward {done['old_reward']:.2f} -> {done['new_reward']:.2f}")
    return 0


def cmd_servers(args: argparse.Namespace) -> int:
    if args.format:
        roots = args.root or ([] if args.format in HOSTS_WITH_ROOTS else [Path.cwd()])
        if any(root.resolve() == Path("/") for root in roots):
            raise ConfigError("the documents server would read the whole disk: pass --root with the folder it may read")
        check_format(args.format, args.http)
        names, left_out = installed()
        ports = {s.program.removeprefix("memento-"): s.default_port for s in installed_servers() if s.default_port} if args.http else None
        print(host_config(args.format, launches(names, roots, ports), http=args.http))
        for advice in left_out:
            print(f"memento: left out: {advice}", file=sys.stderr)
        folders = ", ".join(str(root.resolve()) for root in roots) or "the workspace folders the host gives it"
        reads = "" if args.http or "documents" not in names else f"; documents may read {folders}"
        print(f"memento: paste into {FORMATS[args.format]}{reads}", file=sys.stderr)
        return 0
    for server in installed_servers():
        print("\n".join(server.lines()) + "\n")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    return ui_command.run(args, _config(args))


COMMANDS: dict[str, Any] = {"ask": cmd_ask, "eval": cmd_eval, "runs": cmd_runs, "show": cmd_show, "rate": cmd_rate, "servers": cmd_servers, "ui": cmd_ui}
NEED_CLIENT_EXTRA = ("ask", "eval", "show", "rate", "ui")  # the model client, the live view and the servers' sessions


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command in NEED_CLIENT_EXTRA and (advice := extra_advice("memento", "client")):
            raise ConfigError(advice.removeprefix("memento "))
        return COMMANDS[args.command](args)
    except MementoError as exc:
        print(f"memento: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("memento: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early, e.g. `memento servers --format json | head`
        sys.stderr.close()
        return 0


def main() -> None:
    sys.exit(run())

"""Subcommands of `memento-memory`: import, export, stats, search, reindex, train."""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from memento_memory.config import BankConfig
from memento_memory.errors import CaseBankError
from memento_memory.models import CaseFilters
from memento_memory.storage import unreachable
from memento_servers.runtime import Command

IMPORT_BATCH = 100  # cases embedded and committed at a time by `import` (one progress line each)


def open_bank(settings: BankConfig):
    """The `CaseBank` of `settings`; a store it cannot reach becomes a `CaseBankError` naming the URI and what to check."""
    from memento_memory.bank import CaseBank

    try:
        return CaseBank(settings.bank_options())
    except (RuntimeError, ValueError) as exc:  # how LanceDB says it cannot reach the store (S3 bucket, region, keys)
        text = str(exc) or type(exc).__name__
        found = re.search(r'message: "([^"]+)"', text)  # the OS's words inside Rust's debug output, when there are some
        reason = found.group(1) if found else re.sub(r",? /\S+\.rs:\d+:\d+", "", text.splitlines()[0])[:200]
        raise unreachable(str(settings.db), reason) from exc


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while batch := list(islice(items, size)):
        yield batch


def _guarded(run):
    """Bank errors and unreadable or unwritable files become one line on stderr and exit status 1."""

    def wrapper(settings: BankConfig, args: argparse.Namespace) -> int:
        try:
            return run(settings, args) or 0
        except CaseBankError as exc:
            print(f"memento-memory {args.command}: {exc}", file=sys.stderr)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            print(f"memento-memory {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1

    return wrapper


def _import_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="JSONL: our export format, or Memento's memory.jsonl.")
    parser.add_argument("--source", help="Provenance to record (default: the file name).")
    parser.add_argument("--tag", action="append", default=[], help="Tag every imported case (repeatable).")
    _quiet_arg(parser)


def _quiet_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr.")


def _say(args: argparse.Namespace, text: str) -> None:
    """A progress line on stderr (stdout carries the JSON result), unless --quiet."""
    if not args.quiet:
        print(f"memento-memory {args.command}: {text}", file=sys.stderr, flush=True)


def _progress(args: argparse.Namespace):
    """The library's `on_progress(done, total, what)` as progress lines."""
    return lambda done, total, what: _say(args, f"{done} of {total} {what}")


@_guarded
def _import(settings: BankConfig, args: argparse.Namespace) -> int:
    from memento_memory.importers import read_cases

    with args.file.open(encoding="utf-8") as handle:  # a missing file fails here, before the bank opens
        lines = sum(1 for line in handle if line.strip())
    with open_bank(settings) as bank:
        created = total = 0
        for batch in _batches(read_cases(args.file, args.source, args.tag), min(IMPORT_BATCH, settings.max_batch)):
            report = bank.write(batch)
            created, total = created + len(report.created), total + len(batch)
            _say(args, f"{total} of {lines} cases read, {created} new")
        print(json.dumps({"read": total, "created": created, "skipped_existing": total - created}))
    return 0


def _export_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, help="Output JSONL (default: stdout).")


@_guarded
def _export(settings: BankConfig, args: argparse.Namespace) -> int:
    if args.file and not args.file.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder to export into", str(args.file.parent))
    with open_bank(settings) as bank:
        lines = [case.model_dump_json() for case in reversed(bank.list())]
    text = "".join(line + "\n" for line in lines)
    if args.file:
        args.file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


@_guarded
def _stats(settings: BankConfig, args: argparse.Namespace) -> int:
    with open_bank(settings) as bank:
        print(bank.stats().model_dump_json(indent=2))
    return 0


def _search_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", help="The task text to find cases for.")
    parser.add_argument("-k", type=int, default=4, help="Cases to return (default 4).")
    parser.add_argument("--policy", choices=["similarity", "learned"], default="similarity")
    parser.add_argument("--exclude-same-task", action="store_true", help="Skip cases with this exact task.")


@_guarded
def _search(settings: BankConfig, args: argparse.Namespace) -> int:
    filters = CaseFilters(exclude_task=args.task if args.exclude_same_task else None)
    with open_bank(settings) as bank:
        print(bank.retrieve(args.task, args.k, args.policy, filters).model_dump_json(indent=2))
    return 0


@_guarded
def _reindex(settings: BankConfig, args: argparse.Namespace) -> int:
    from memento_memory.reindex import reindex

    _say(args, f"re-embedding every case with {settings.model} (this takes a while for a large bank)...")
    count = reindex(settings.bank_options(), on_progress=_progress(args))
    print(json.dumps({"reindexed": count, "model": settings.model}))
    return 0


def _train_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="JSONL transitions: {task, case_id, reward} or Memento's training_data.jsonl.")
    parser.add_argument("--epochs", type=int, default=5, help="Passes over the data (default 5).")
    _quiet_arg(parser)


@_guarded
def _train(settings: BankConfig, args: argparse.Namespace) -> int:
    from memento_memory.importers import content_id, read_transitions

    with open_bank(settings) as bank:
        known = {case.id for case in bank.list()}

        def case_id_for(task: str, plan: Any) -> str | None:
            case_id = content_id(task, plan)
            return case_id if case_id in known else None

        transitions = list(read_transitions(args.file, case_id_for))
        _say(args, f"training the learned policy on {len(transitions)} transitions, {args.epochs} epochs...")
        state = bank.train(transitions, epochs=args.epochs, on_progress=_progress(args))
        print(json.dumps({"read": len(transitions), **state.model_dump()}))
    return 0


def _no_args(parser: argparse.ArgumentParser) -> None:
    return None


COMMANDS = (
    Command("import", "Import cases from JSONL (ours or Memento's memory.jsonl).", _import_args, _import),
    Command("export", "Export every case as JSONL (importable again).", _export_args, _export),
    Command("stats", "Print counts, model, index and training state.", _no_args, _stats),
    Command("search", "Retrieve cases for a task and print them as JSON.", _search_args, _search),
    Command("reindex", "Re-embed every case with --model (after changing the model).", _quiet_arg, _reindex),
    Command("train", "Train the learned policy offline from a transitions file.", _train_args, _train),
)

"""`memento-memory` subcommands: import (Memento's format), export, stats, search, train, reindex."""

from __future__ import annotations

import json
import subprocess

from memento_memory.server import SPEC
from memento_servers.runtime import run
from tests.harness import script
from tests.memory.conftest import MEMENTO_CASES, MEMENTO_TRAINING


def cli(capsys, db, *argv: str) -> tuple[int, str]:
    status = run(SPEC, [*argv, "--db", str(db), "--model", "feature-hash"])
    return status, capsys.readouterr().out


def test_import_memento_cases_is_idempotent_and_exports_round_trip(tmp_path, capsys):
    db = tmp_path / "bank"
    status, out = cli(capsys, db, "import", str(MEMENTO_CASES))
    assert status == 0 and json.loads(out) == {"read": 60, "created": 60, "skipped_existing": 0}
    status, out = cli(capsys, db, "import", str(MEMENTO_CASES))
    assert json.loads(out)["created"] == 0
    exported = tmp_path / "cases.jsonl"
    assert cli(capsys, db, "export", str(exported))[0] == 0
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(rows) == 60 and rows[0]["source"] == "memento:memento_memory_sample.jsonl"
    assert isinstance(rows[0]["plan"], dict) and rows[0]["reward"] in (0.0, 1.0)
    status, out = cli(capsys, tmp_path / "copy", "import", str(exported))
    assert json.loads(out)["created"] == 60
    status, out = cli(capsys, tmp_path / "copy", "stats")
    stats = json.loads(out)
    assert stats["cases"] == 60 and stats["positive"] == sum(row["reward"] >= 0.5 for row in rows)


def test_search_prints_positive_and_negative_cases(tmp_path, capsys):
    db = tmp_path / "bank"
    cli(capsys, db, "import", str(MEMENTO_CASES))
    status, out = cli(capsys, db, "search", "What sport does Deportivo Cali play?", "-k", "3", "--exclude-same-task")
    found = json.loads(out)
    tasks = [c["task"] for c in found["positive"] + found["negative"]]
    assert status == 0 and len(tasks) == 3 and "What sport does Deportivo Cali play?" not in tasks


def test_train_on_memento_training_data_trains_the_scorer(tmp_path, capsys):
    db = tmp_path / "bank"
    cli(capsys, db, "import", str(MEMENTO_CASES))
    status, out = cli(capsys, db, "train", str(MEMENTO_TRAINING), "--epochs", "2")
    result = json.loads(out)
    assert status == 0 and result["read"] == 141 and result["trained_steps"] > 0
    assert (db / "scorer.pt").exists()


def test_the_console_script_refuses_another_model_with_a_clear_message(tmp_path, capsys):
    db = tmp_path / "bank"
    cli(capsys, db, "import", str(MEMENTO_CASES))
    done = subprocess.run(
        [script("memory"), "stats", "--db", str(db), "--model", "all-MiniLM-L6-v2"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "embedded with 'feature-hash'" in done.stderr and "reindex" in done.stderr


def test_missing_files_and_folders_are_one_line_errors_and_imports_show_progress(tmp_path, capsys):
    def errors(*argv: str) -> tuple[int, str]:
        status = run(SPEC, [*argv, "--db", str(tmp_path / "bank"), "--model", "feature-hash"])
        return status, capsys.readouterr().err.strip()

    missing = tmp_path / "missing.jsonl"
    assert errors("import", str(missing)) == (1, f"memento-memory import: No such file or directory: {missing}")
    assert errors("export", str(tmp_path / "no" / "cases.jsonl")) == (
        1, f"memento-memory export: no such folder to export into: {tmp_path / 'no'}"
    )
    assert errors("train", str(missing)) == (1, f"memento-memory train: No such file or directory: {missing}")
    assert errors("import", str(MEMENTO_CASES)) == (0, "memento-memory import: 60 of 60 cases read, 60 new")
    assert errors("import", str(MEMENTO_CASES), "--quiet") == (0, "")  # --quiet: no progress lines


def test_reindex_and_train_report_each_batch_on_stderr_unless_quiet(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("memento_memory.reindex.BATCH", 50)  # the 60 cases and 141 transitions span several batches
    monkeypatch.setattr("memento_memory.learning.OFFLINE_CHUNK", 100)

    def progress(*argv: str) -> tuple[int, list[str]]:
        status = run(SPEC, [*argv, "--db", str(tmp_path / "bank"), "--model", "feature-hash"])
        return status, capsys.readouterr().err.splitlines()[1:]  # after the start line

    run(SPEC, ["import", str(MEMENTO_CASES), "--quiet", "--db", str(tmp_path / "bank"), "--model", "feature-hash"])
    assert progress("train", str(MEMENTO_TRAINING), "--epochs", "2") == (0, [
        "memento-memory train: 100 of 141 transitions scored and trained on",
        "memento-memory train: 141 of 141 transitions scored and trained on",
        "memento-memory train: 1 of 2 epochs over all transitions",
        "memento-memory train: 2 of 2 epochs over all transitions",
    ])  # fmt: skip
    assert progress("reindex") == (0, [
        "memento-memory reindex: 50 of 60 cases re-embedded",
        "memento-memory reindex: 60 of 60 cases re-embedded",
        "memento-memory reindex: 50 of 141 transitions re-embedded",
        "memento-memory reindex: 100 of 141 transitions re-embedded",
        "memento-memory reindex: 141 of 141 transitions re-embedded",
    ])  # fmt: skip
    capsys.readouterr()
    assert run(SPEC, ["reindex", "--quiet", "--db", str(tmp_path / "bank"), "--model", "feature-hash"]) == 0
    assert run(SPEC, ["train", str(MEMENTO_TRAINING), "--quiet", "--db", str(tmp_path / "bank"), "--model", "feature-hash"]) == 0
    assert capsys.readouterr().err == ""  # --quiet: not even the start lines

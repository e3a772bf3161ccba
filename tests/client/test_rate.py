"""`memento rate`: a verdict becomes the reward of the case an answer wrote, on the real memory server
(feature-hash), with no model configured; bad input is a one-line error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from memento_client.cli import run
from memento_client.eval.runs import runs_root
from tests.client.conftest import REPO, with_memory
from tests.client.scripted import AgentScript

QUESTIONS = [
    {"id": "q1", "question": "Capital of France?", "answers": ["Paris"]},
    {"id": "q2", "question": "Largest planet?", "answers": ["Jupiter"]},
]


@pytest.fixture
def workspace(tmp_path, fake_openai, monkeypatch):
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy}}))
    with_memory(tmp_path)
    (tmp_path / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    monkeypatch.chdir(tmp_path)
    answers = {"What is 2+3?": "5", "Capital of France?": "Paris", "Largest planet?": "Saturn"}
    fake_openai.responder = AgentScript(answers=answers, tool=("toy__add", {"a": 2, "b": 3}))
    return tmp_path


def _bank(workspace: Path) -> dict[str, dict]:
    """The cases as memento-memory's own export sees them (not through the client)."""
    command = [sys.executable, "-m", "memento_memory", "--db", str(workspace / "bank"), "--model", "feature-hash", "export"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    return {case["id"]: case for case in map(json.loads, done.stdout.splitlines())}


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_rating_an_answer_changes_its_case_reward_without_a_model(workspace, fake_openai, capsys):
    model = ["--base-url", fake_openai.url, "--model", "fake-model"]
    assert run(["ask", "What is 2+3?", "--gold", "5", "--json", *model]) == 0
    asked = json.loads(capsys.readouterr().out)
    name, case_id = asked["run"], asked["case_id"]
    assert asked["reward"] == 1.0 and _bank(workspace)[case_id]["reward"] == 1.0

    requests = len(fake_openai.requests)
    assert run(["rate", name, "bad"]) == 0  # no --model, no OPENAI_*: rating needs only the memory server
    assert capsys.readouterr().out.strip() == f"{name} task 1 (iteration 1): case {case_id} reward 1.00 -> 0.00"
    case = _bank(workspace)[case_id]
    assert (case["reward"], case["outcome"]) == (0.0, "failure")
    assert run(["rate", name, "1", "0.25"]) == 0
    assert capsys.readouterr().out.strip().endswith("reward 0.00 -> 0.25")
    assert _bank(workspace)[case_id]["reward"] == 0.25
    assert len(fake_openai.requests) == requests

    ratings = [json.loads(line) for line in (runs_root() / name / "ratings.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "time"} for r in ratings] == [
        {"task": "1", "iteration": 1, "case_id": case_id, "old_reward": 1.0, "new_reward": 0.0},
        {"task": "1", "iteration": 1, "case_id": case_id, "old_reward": 0.0, "new_reward": 0.25},
    ]


def test_an_eval_task_is_rated_in_its_latest_iteration_and_bad_input_is_a_one_line_error(workspace, fake_openai, capsys):
    model = ["--base-url", fake_openai.url, "--model", "fake-model"]
    out = workspace / "run"
    assert run(["eval", "--dataset", "questions.jsonl", "--out", str(out), "--iterations", "2", "--concurrency", "1", *model]) == 0
    capsys.readouterr()
    latest = {r["id"]: r for r in map(json.loads, (out / "iter-2" / "results.jsonl").read_text().splitlines())}
    wrong = latest["q2"]  # Saturn for Jupiter: reward 0
    assert run(["rate", str(out), "q2", "good"]) == 0
    assert capsys.readouterr().out.strip() == f"run task q2 (iteration 2): case {wrong['case_id']} reward 0.00 -> 1.00"
    assert _bank(workspace)[wrong["case_id"]]["reward"] == 1.0

    bad = [
        (["rate", "no-such-run", "good"], "no run 'no-such-run'"),
        (["rate", str(out), "good"], "run run has 2 tasks: name one by id or 1-based index, e.g. `memento rate run q1 good`"),
        (["rate", str(out), "q9", "good"], "run run has no task 'q9': name one of its 2 by id or 1..2"),
        (["rate", str(out), "3", "good"], "run run has no task '3'"),
        (["rate", str(out), "q1", "1.5"], "rating '1.5': give good, bad or a score from 0 to 1"),
        (["rate", str(out), "q1", "maybe"], "rating 'maybe': give good, bad or a score from 0 to 1"),
        (["rate", str(out), "q1", "nan"], "rating 'nan'"),
        (["rate", str(out), "q1", "-0.5"], "rating '-0.5'"),
    ]
    for argv, message in bad:
        assert run(argv) == 2, argv
        assert message in _error(capsys), argv

    toy_only = workspace / "toy.json"
    toy_only.write_text(json.dumps({"mcpServers": {"toy": json.loads((workspace / "mcp.json").read_text())["mcpServers"]["toy"]}}))
    assert run(["rate", str(out), "q1", "good", "--mcp-config", str(toy_only)]) == 2
    assert _error(capsys).startswith("memento: no MCP server offers the memory tool get_case (is memento-memory in the MCP config")

    off = workspace / "off"
    assert run(["eval", "--dataset", "questions.jsonl", "--out", str(off), "--memory", "off", *model]) == 0
    capsys.readouterr()
    assert run(["rate", str(off), "q1", "good"]) == 2
    assert _error(capsys) == "memento: task q1 of run off wrote no case (memory off, no reward, or the memory server failed): nothing to rate"
    assert not (off / "ratings.jsonl").exists() and (out / "ratings.jsonl").read_text().count("\n") == 1

    # runs and show read folders holding tasks.jsonl, ratings.jsonl and memory_stats.json
    assert (out / "memory_stats.json").exists() and (out / "tasks.jsonl").exists()
    assert run(["runs"]) == 0
    assert run(["show", str(out), "2", "--json"]) == 0  # index 2 of the question set: q2, in both iterations
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(t["iteration"], t["id"], t["answer"]) for t in shown] == [(1, "q2", "Saturn"), (2, "q2", "Saturn")]

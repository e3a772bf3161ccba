"""`memento eval` end to end with the fake model over a real MCP server: exact metrics, iterations,
report and plot, and resuming after a Ctrl-C that leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from memento_client.cli import run
from memento_client.eval.datasets import load_dataset
from memento_client.eval.report import write_report
from memento_client.eval.runfiles import cut_torn_line
from memento_client.eval.runs import trajectories
from tests.client.conftest import REPO, with_memory
from tests.client.scripted import AgentScript, role_of, task_of
from tests.client.test_host import alive

QUESTIONS = [
    {"id": "q1", "data_source": "nq", "question": "Capital of France?", "answers": ["Paris"]},
    {"id": "q2", "data_source": "nq", "question": "Largest planet?", "ground_truth": "Jupiter<|answer_split|>planet Jupiter"},
    {"id": "q3", "data_source": "hotpotqa", "question": "44th US president?", "answers": ["Barack Obama"]},
    {"id": "q4", "data_source": "hotpotqa", "question": "Author of Dune?", "answers": ["Frank Herbert"]},
]
ANSWERS = {"Capital of France?": "Paris.", "Largest planet?": "planet jupiter", "44th US president?": "Barack Obama Jr.", "Author of Dune?": "Isaac Asimov"}


@pytest.fixture
def workspace(tmp_path, fake_openai, monkeypatch):
    dataset = tmp_path / "questions.jsonl"
    dataset.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy}}))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("MEMENTO_CLIENT_MODEL", "fake-model")
    fake_openai.responder = AgentScript(answers=ANSWERS, tool=("toy__echo", {"text": "look"}))
    return tmp_path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _eval_args(ws: Path, out: Path, *extra: str) -> list[str]:
    return ["eval", "--dataset", str(ws / "questions.jsonl"), "--mcp-config", str(ws / "mcp.json"), "--out", str(out), "--json", *extra]


def test_quiet_eval_prints_only_its_summary(workspace, fake_openai, capsys):
    assert run(_eval_args(workspace, workspace / "quiet", "--limit", "1", "--memory", "off", "--quiet")) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and json.loads(printed.out)["iterations"][0]["overall"]["n"] == 1


def test_eval_scores_exactly_per_source_and_writes_report_and_plot(workspace, fake_openai, capsys):
    out = workspace / "run"
    flags = ["--iterations", "2", "--concurrency", "4", "--memory", "off", "--judge-model", "fake-judge"]
    assert run(_eval_args(workspace, out, *flags)) == 0
    printed = capsys.readouterr()
    summary = json.loads(printed.out.strip().splitlines()[-1])
    assert printed.err.startswith("memento eval: 4 questions x 2 iteration(s), memory off")  # at once, before the servers
    assert "done · Capital of France? -> Paris. (EM 1 F1 1.00)" in printed.err  # progress names the question
    first, second = summary["iterations"]
    # EM: Paris. = Paris, planet jupiter = alias; F1: "barack obama jr" vs "barack obama" = 0.8; Asimov = 0
    # PM: the scripted judge accepts only "planet jupiter" (a verbatim alias)
    assert first["overall"] == {"n": 4, "em": 0.5, "f1": 0.7, "pm": 0.25, "failed": 0, "missing": 0}
    assert first["by_source"]["nq"] == {"n": 2, "em": 1.0, "f1": 1.0, "pm": 0.5, "failed": 0, "missing": 0}
    assert first["by_source"]["hotpotqa"] == {"n": 2, "em": 0.0, "f1": 0.4, "pm": 0.0, "failed": 0, "missing": 0}
    judged = [r for r in fake_openai.chat_requests if r.body["model"] == "fake-judge"]
    assert len(judged) == 8 and "Gold answers: Jupiter | planet Jupiter" in "".join(r.text() for r in judged)
    assert second["overall"] == first["overall"]
    assert (out / "report.md").read_text().count("| 1 | 4 | 0.500 | 0.700 | 0.250 | 0 | 0 |") == 1
    rewards = {r["id"]: r["reward"] for r in _rows(out / "iter-1" / "results.jsonl")}
    assert rewards == {"q1": 0.0, "q2": 1.0, "q3": 0.0, "q4": 0.0}  # the judge's verdict is the reward
    assert (out / "learning_curve.png").read_bytes()[:4] == b"\x89PNG"
    config = json.loads((out / "config.json").read_text())
    assert config["memory"] == "off" and config["models"]["planner"] == "fake-model" and "api_key" not in config["client"]
    assert not (out / "memory_stats.json").exists() and "Case bank" not in (out / "report.md").read_text()
    trajectories = _rows(out / "iter-1" / "trajectories.jsonl")
    assert {t["id"] for t in trajectories} == {"q1", "q2", "q3", "q4"}
    assert any(e["kind"] == "tool" and e["name"] == "toy__echo" for e in trajectories[0]["events"])

    # runs and show replay it
    assert run(["runs"]) == 0
    assert run(["show", str(out), "q3", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [(t["iteration"], t["answer"]) for t in shown] == [(1, "Barack Obama Jr."), (2, "Barack Obama Jr.")]

    # re-running the finished run pays for nothing
    before = len(fake_openai.chat_requests)
    assert run(_eval_args(workspace, out, *flags)) == 0
    assert len(fake_openai.chat_requests) == before


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().split(")")[-1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def test_ctrl_c_leaves_no_process_and_the_run_resumes_where_it_stopped(workspace, fake_openai):
    script = fake_openai.responder
    slow = {"44th US president?", "Author of Dune?"}

    def stalling(request):
        reply = script(request)
        if task_of(request) in slow and role_of(request) == "planner" and not stalling.released:
            reply.delay = 20
        return reply

    stalling.released = False
    fake_openai.responder = stalling
    out = workspace / "run"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "memento"), *_eval_args(workspace, out, "--concurrency", "1")],
        cwd=workspace,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # SIGABRT prints every thread's stack
    )
    results = out / "iter-1" / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (results.exists() and len(results.read_text().splitlines()) >= 2):
        time.sleep(0.1)
    assert len(_rows(results)) == 2, process.stderr.read().decode() if process.poll() is not None else "too slow"
    children = _descendants(process.pid)
    assert children  # the toy MCP server
    process.send_signal(signal.SIGINT)
    assert _exit_status(process, 30) == 130
    time.sleep(0.2)
    assert not [pid for pid in children if alive(pid)]

    stalling.released = True
    fake_openai.requests.clear()
    assert run(_eval_args(workspace, out, "--concurrency", "2")) == 0
    asked = {task_of(r) for r in fake_openai.chat_requests}
    assert asked == slow  # the two finished tasks were not paid for again
    assert sorted(r["id"] for r in _rows(results)) == ["q1", "q2", "q3", "q4"]


def _exit_status(process: subprocess.Popen, seconds: float) -> int:
    """The process's exit status; if it is still running after `seconds`, fail with where it was stuck."""
    try:
        return process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"still running {seconds} s after Ctrl-C; its stderr and stacks:\n{stderr.decode()[-20000:]}")


def _task_starts(requests) -> Counter:
    """How many times each task was started: its planner's opening requests (no results reported yet)."""
    opening = [r for r in requests if role_of(r) == "planner" and "Results of cycle" not in r.text()]
    return Counter(task_of(r) for r in opening)


def test_a_torn_last_line_is_cut_on_resume_and_only_its_task_runs_again(workspace, fake_openai):
    out = workspace / "run"
    assert run(_eval_args(workspace, out, "--memory", "off", "--concurrency", "1")) == 0
    results = out / "iter-1" / "results.jsonl"
    lines = results.read_text().splitlines(keepends=True)
    torn = json.loads(lines[-1])
    results.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed while writing its line

    fake_openai.requests.clear()
    assert run(_eval_args(workspace, out, "--memory", "off", "--concurrency", "1")) == 0
    assert _task_starts(fake_openai.chat_requests) == {torn["question"]: 1}
    rows = _rows(results)  # every line parses: nothing fused onto the torn fragment
    assert sorted(r["id"] for r in rows) == ["q1", "q2", "q3", "q4"] and rows[-1] == {**torn, "seconds": rows[-1]["seconds"]}
    [shown] = trajectories(out, torn["id"])  # the finished attempt, once
    assert shown["answer"] == torn["answer"]

    fake_openai.requests.clear()
    assert run(_eval_args(workspace, out, "--memory", "off")) == 0
    assert not fake_openai.chat_requests  # a task with a complete line never runs again


def test_cut_torn_line_keeps_every_complete_line(tmp_path):
    path = tmp_path / "rows.jsonl"
    complete = '{"id": "a"}\n' + json.dumps({"id": "b", "x": "y" * 200_000}) + "\n"
    for torn, kept in [("", complete), ('{"id": "c", "x": "' + "z" * 150_000, complete), ("x" * 70_000, complete)]:
        path.write_text(complete + torn)
        cut_torn_line(path)
        assert path.read_text() == kept
    path.write_text("no newline at all")
    cut_torn_line(path)
    assert path.read_text() == ""


def test_a_question_without_a_result_counts_as_wrong(workspace, capsys):
    out = workspace / "run"
    assert run(_eval_args(workspace, out, "--memory", "off")) == 0
    results = out / "iter-1" / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in _rows(results) if r["id"] != "q2"))
    write_report(out)
    [summary] = json.loads((out / "summary.json").read_text())
    # q1 EM 1 F1 1, q3 EM 0 F1 0.8, q4 0 0, q2 missing: 0 0, over all 4 questions
    assert summary["overall"] == {"n": 4, "em": 0.25, "f1": 0.45, "failed": 0, "missing": 1}
    assert summary["by_source"]["nq"] == {"n": 2, "em": 0.5, "f1": 0.5, "failed": 0, "missing": 1}
    assert "| 1 | 4 | 0.250 | 0.450 | - | 0 | 1 |" in (out / "report.md").read_text()

    (out / "tasks.jsonl").unlink()  # a run folder from before the question set was recorded: the rows present
    write_report(out)
    assert json.loads((out / "summary.json").read_text())[0]["overall"] == {"n": 3, "em": 0.3333, "f1": 0.6, "failed": 0, "missing": 0}

    dataset = workspace / "questions.jsonl"
    dataset.write_text(dataset.read_text().replace('"q4"', '"q5"'))  # the set changed under the run
    (out / "tasks.jsonl").write_text("".join(json.dumps({"id": q["id"], "source": q["data_source"]}) + "\n" for q in QUESTIONS))
    assert run(_eval_args(workspace, out, "--memory", "off")) == 2
    assert f"{out} holds a run of other questions than" in capsys.readouterr().err


def test_the_report_sets_each_iteration_against_each_baseline(workspace, fake_openai):
    run_flags = ["--memory", "off", "--iterations", "2"]
    assert run(_eval_args(workspace, workspace / "ours", *run_flags)) == 0  # EM 0.5, F1 0.7 in both iterations
    assert run(_eval_args(workspace, workspace / "twice", *run_flags)) == 0
    second = workspace / "twice" / "iter-2" / "results.jsonl"
    second.write_text("".join(json.dumps(r) + "\n" for r in _rows(second) if r["id"] != "q1"))  # q1 missing: EM 0.25, F1 0.45
    fake_openai.responder = AgentScript(answers={})  # answers "unknown": EM 0, F1 0
    assert run(_eval_args(workspace, workspace / "unknown", "--memory", "off")) == 0

    baselines = ["--baseline", str(workspace / "unknown"), "--baseline", str(workspace / "twice")]
    assert run(_eval_args(workspace, workspace / "ours", *run_flags, *baselines)) == 0
    report = (workspace / "ours" / "report.md").read_text()
    assert "| iteration | n | EM | F1 | PM | failed | missing | EM / F1 vs unknown, memory off | EM / F1 vs twice, memory off |" in report
    assert "| 1 | 4 | 0.500 | 0.700 | - | 0 | 0 | +0.500 / +0.700 | +0.000 / +0.000 |" in report
    assert "| 2 | 4 | 0.500 | 0.700 | - | 0 | 0 | +0.500 / +0.700 | +0.250 / +0.250 |" in report  # one-iteration baseline: every row
    assert "## Baseline twice, memory off" in report and "| 2 | 4 | 0.250 | 0.450 | - | 0 | 1 |" in report


def test_datasets_in_every_format(tmp_path):
    csv_file = tmp_path / "simpleqa_test.csv"
    csv_file.write_text('metadata,question,true_answer\n"{}",Who won?,Ann\n')
    frames = tmp_path / "frames_test.csv"
    frames.write_text("Unnamed: 0,Prompt,Answer\n0,What year?,1999\n")
    memento = tmp_path / "memento.jsonl"
    memento.write_text(json.dumps({"question": "Q?", "ground_truth": "a<|answer_split|>b"}) + "\n")
    _, [simpleqa] = load_dataset(csv_file)
    assert (simpleqa.question, simpleqa.answers, simpleqa.source) == ("Who won?", ["Ann"], "simpleqa")
    assert load_dataset(frames)[1][0].answers == ["1999"]
    layout, [item] = load_dataset(memento)
    assert layout == "qa" and item.answers == ["a", "b"] and len(item.id) == 16


def test_iterations_carry_the_case_bank_over_but_never_show_a_question_its_own_cases(workspace, fake_openai, capsys):
    with_memory(workspace)
    out = workspace / "run"
    assert run(_eval_args(workspace, out, "--iterations", "2", "--limit", "2", "--memory", "similarity", "--concurrency", "1")) == 0
    first, second = _rows(out / "iter-1" / "results.jsonl"), _rows(out / "iter-2" / "results.jsonl")
    assert all(r["case_id"] for r in first) and first[0]["retrieved_case_ids"] == []
    own = {r["id"]: r["case_id"] for r in first}
    for row in second:
        other = next(q for q in own if q != row["id"])
        assert own[row["id"]] not in row["retrieved_case_ids"] and own[other] in row["retrieved_case_ids"]
    planner_prompts = [r.text() for r in fake_openai.chat_requests if r.messages[0]["content"].startswith("You are the planner")]
    assert sum("Past cases similar to this task" in p for p in planner_prompts) >= 2
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [s["overall"]["em"] for s in summary["iterations"]] == [1.0, 1.0]
    assert "same-task cases: excluded" in (out / "report.md").read_text()
    assert json.loads((out / "config.json").read_text())["same_task_cases"] == "excluded"

    # --allow-same-task (the paper's protocol): a question's own earlier cases come back first
    allowed = workspace / "allowed"
    flags = ["--iterations", "2", "--limit", "2", "--memory", "similarity", "--allow-same-task"]
    assert run(_eval_args(workspace, allowed, *flags)) == 0
    earlier = {r["id"]: r["case_id"] for r in _rows(allowed / "iter-1" / "results.jsonl")}
    for row in _rows(allowed / "iter-2" / "results.jsonl"):
        assert earlier[row["id"]] in row["retrieved_case_ids"]
    assert "same-task cases: allowed" in (allowed / "report.md").read_text()
    assert run(_eval_args(workspace, allowed, *flags[:-1])) == 2  # resuming must keep the protocol
    assert "same_task_cases='allowed'" in capsys.readouterr().err

    # the same questions without memory, drawn beside it: memory off vs on in one report
    off = workspace / "off"
    assert run(_eval_args(workspace, off, "--limit", "2", "--memory", "off")) == 0
    assert run(_eval_args(workspace, out, "--iterations", "2", "--limit", "2", "--memory", "similarity", "--baseline", str(off))) == 0
    report = (out / "report.md").read_text()
    assert "## Learning curve (overall, memory similarity)" in report and "## Baseline off, memory off" in report


def test_a_learned_memory_run_reports_its_temperature_and_the_case_bank_it_leaves(workspace, capsys):
    with_memory(workspace)
    out = workspace / "learned"
    flags = ["--limit", "2", "--memory", "learned", "--cases-temperature", "0.2"]
    assert run(_eval_args(workspace, out, *flags, "--iterations", "2", "--concurrency", "1")) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["cases_temperature"] == 0.2 and config["client"]["cases_temperature"] == 0.2
    report = (out / "report.md").read_text()
    assert "- memory: learned (temperature 0.2), iterations: 2" in report

    # the memory server's own memory_stats at the end of the run, saved and rendered field by field
    rows = _rows(out / "iter-1" / "results.jsonl") + _rows(out / "iter-2" / "results.jsonl")
    stats = json.loads((out / "memory_stats.json").read_text())
    assert stats["cases"] == 4 and stats["scorer"]["transitions"] == sum(len(r["retrieved_case_ids"]) for r in rows) > 0
    section = report[report.index("## Case bank and learned policy") :]
    assert "| cases | 4 |" in section and f"| transitions | {stats['scorer']['transitions']} |" in section
    for field in stats["scorer"]:
        assert f"| {field} | " in section
    assert run(_eval_args(workspace, out, *flags[:-1], "0.5")) == 2  # resuming must keep the policy
    assert "cases_temperature=0.2, not 0.5" in capsys.readouterr().err
    assert run(_eval_args(workspace, out, *flags[:-1], "-1")) == 2
    err = capsys.readouterr().err
    assert "cases_temperature" in err and len(err.strip().splitlines()) == 1

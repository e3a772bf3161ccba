"""The `memento` command: version, servers, ask (with and without a model, with gold answers), runs and show."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from memento_client.cli import ask_entries, run
from memento_client.eval.runs import runs_root
from memento_client.mcp.config import parse_mcp_config
from memento_core.version import package_version
from tests.client.conftest import REPO, with_memory
from tests.client.scripted import AgentScript
from tests.fakes.openai_server import text_reply


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        run(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"memento {package_version()}"


def test_servers_lists_all_five_with_how_to_start_them(capsys):
    assert run(["servers"]) == 0
    out = capsys.readouterr().out
    for name, port in [("search", 8711), ("crawl", 8712), ("documents", 8713), ("code", 8714), ("memory", 8715)]:
        assert f"memento-{name}: " in out
        assert f"memento-{name} --transport http --port {port}" in out
        assert f'"{name}": {{"command": "memento-{name}"' in out


def test_help_shows_the_defaults_and_runs_lists_as_json(capsys):
    with pytest.raises(SystemExit):
        run(["ask", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Plan-execute cycles per task. (default: 3)" in text and "Case retrieval policy. (default: similarity)" in text
    assert run(["runs", "--json"]) == 0 and json.loads(capsys.readouterr().out) == []  # a fresh MEMENTO_HOME has none


def test_ask_without_a_model_explains_how_to_configure_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["ask", "What is Memento?"]) == 2
    err = capsys.readouterr().err
    for hint in ("OPENAI_API_KEY", "OPENAI_BASE_URL=http://localhost:11434/v1", "vLLM", "llama.cpp", "--model"):
        assert hint in err


def test_an_endpoint_without_a_model_lends_its_only_model_or_lists_its_models(capsys, tmp_path, fake_openai, monkeypatch):
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    fake_openai.enqueue(text_reply(json.dumps({"thought": "t", "plan": [], "final_answer": "42"})))
    assert run(["ask", "What is six times seven?", "--json"]) == 0
    assert f"using fake-model, the one model served at {fake_openai.url}" in capsys.readouterr().err
    assert fake_openai.chat_requests[0].body["model"] == "fake-model"
    fake_openai.models = ("small", "large")
    assert run(["ask", "What is six times seven?"]) == 2
    assert f"no model configured; {fake_openai.url} serves small, large: choose one with --model" in capsys.readouterr().err


def test_ask_prints_the_answer_then_show_replays_it(capsys, tmp_path, fake_openai, monkeypatch):
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy}}))
    monkeypatch.chdir(tmp_path)  # ./mcp.json is used by default
    fake_openai.responder = AgentScript(answers={"What is 2+3?": "5"}, tool=("toy__add", {"a": 2, "b": 3}))
    base = ["--base-url", fake_openai.url, "--model", "fake-model", "--memory", "off"]
    assert run(["ask", "What is 2+3?", *base]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "5"
    assert "toy__add" in captured.err and "answer" in captured.err  # the live view, on stderr

    assert run(["ask", "What is 2+3?", "--json", *base]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["answer"] == "5" and result["stop_reason"] == "answered"
    assert [e["name"] for e in result["events"] if e["kind"] == "tool"] == ["toy__add"]

    assert run(["runs"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and all(line.startswith("ask-") for line in listing)
    assert run(["show", listing[-1].split()[0], "1"]) == 0
    assert "toy__add" in capsys.readouterr().out


def _ask_workspace(tmp_path, fake_openai, monkeypatch) -> list[str]:
    """./mcp.json with the toy server and the real memory server, the scripted model; returns the model flags."""
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy}}))
    with_memory(tmp_path)
    monkeypatch.chdir(tmp_path)
    fake_openai.responder = AgentScript(answers={"What is 2+3?": "5"}, tool=("toy__add", {"a": 2, "b": 3}))
    return ["--base-url", fake_openai.url, "--model", "fake-model"]


def test_ask_with_gold_scores_the_answer_and_writes_the_reward_into_its_case(capsys, tmp_path, fake_openai, monkeypatch):
    base = _ask_workspace(tmp_path, fake_openai, monkeypatch)
    assert run(["ask", "What is 2+3?", "--gold", "five", "--gold", "5", *base]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "5"
    line = captured.err.strip().splitlines()[-1]
    found = re.fullmatch(r"reward 1\.00 \(EM 1\.00, F1 1\.00\); case (\S+); correct it with `memento rate (ask-\S+) good\|bad`", line)
    assert found, line
    [row] = [json.loads(x) for x in (runs_root() / found[2] / "iter-1" / "results.jsonl").read_text().splitlines()]
    assert (row["gold"], row["em"], row["f1"], row["reward"], row["case_id"]) == (["five", "5"], 1.0, 1.0, 1.0, found[1])

    # with a judge, PM joins the metrics and the judge's verdict is the reward
    assert run(["ask", "What is 2+3?", "--gold", "6", "--judge-model", "fake-judge", "--json", *base]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["metrics"], result["reward"]) == ({"em": 0.0, "f1": 0.0, "pm": 0.0}, 0.0) and result["case_id"]
    assert (runs_root() / result["run"] / "config.json").exists()

    # without gold or judge there is no reward, so no case
    assert run(["ask", "What is 2+3?", *base]) == 0
    assert capsys.readouterr().err.strip().splitlines()[-1] == "reward: none (no --gold and no --judge-model), so no case was written"


def test_attached_files_open_their_folder_to_the_documents_server():
    entries = parse_mcp_config({"mcpServers": {"documents": {"command": "memento-documents", "args": ["--root", "."]}, "code": {"command": "c"}}})
    changed = ask_entries(entries, [Path("/data/report.pdf")])
    assert changed[0].args == ("--root", ".", "--root", "/data") and changed[1].args == ()


def test_bad_dataset_and_unknown_run_are_clear_errors(capsys, fake_openai):
    assert run(["eval", "--dataset", "/nope.jsonl", "--model", "m", "--base-url", fake_openai.url]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run(["show", "no-such-run"]) == 2
    assert "no run 'no-such-run'" in capsys.readouterr().err

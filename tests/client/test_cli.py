"""The `memento` command: version, servers, ask (with and without a model), runs and show."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from memento_client.cli import ask_entries, run
from memento_client.mcp.config import parse_mcp_config
from memento_core.version import package_version
from tests.client.conftest import REPO
from tests.client.scripted import AgentScript


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


def test_ask_without_a_model_explains_how_to_configure_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["ask", "What is Memento?"]) == 2
    err = capsys.readouterr().err
    for hint in ("OPENAI_API_KEY", "OPENAI_BASE_URL=http://localhost:11434/v1", "vLLM", "llama.cpp", "--model"):
        assert hint in err


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


def test_attached_files_open_their_folder_to_the_documents_server():
    entries = parse_mcp_config({"mcpServers": {"documents": {"command": "memento-documents", "args": ["--root", "."]}, "code": {"command": "c"}}})
    changed = ask_entries(entries, [Path("/data/report.pdf")])
    assert changed[0].args == ("--root", ".", "--root", "/data") and changed[1].args == ()


def test_bad_dataset_and_unknown_run_are_clear_errors(capsys, fake_openai):
    assert run(["eval", "--dataset", "/nope.jsonl", "--model", "m", "--base-url", fake_openai.url]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run(["show", "no-such-run"]) == 2
    assert "no run 'no-such-run'" in capsys.readouterr().err

"""`memento eval --ray` on a real local Ray: same results, metrics and case bank as a local run, resumable."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from memento_client.cli import run
from tests.client.conftest import REPO
from tests.client.scripted import AgentScript

ray = pytest.importorskip("ray", reason="Ray is missing: pip install -e '.[scale]'")

QUESTIONS = [{"id": f"q{i}", "data_source": "nq", "question": f"Question number {i}?", "answers": [f"answer {i}"]} for i in range(4)]
ANSWERS = {q["question"]: (f"answer {int(q['id'][1:])}" if int(q["id"][1:]) % 3 else "wrong") for q in QUESTIONS}
LATENCY = 0.2  # seconds per model reply


class SlowScript(AgentScript):
    def __call__(self, request):
        reply = super().__call__(request)
        reply.delay = LATENCY
        return reply


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    yield
    ray.shutdown()


def workspace(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    memory = {"command": sys.executable, "args": ["-m", "memento_memory", "--db", str(folder / "bank"), "--model", "feature-hash"], "cwd": str(REPO)}
    (folder / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy, "memory": memory}}))
    return folder


def evaluate(folder: Path, capsys, *extra: str) -> dict:
    args = ["eval", "--dataset", str(folder / "questions.jsonl"), "--mcp-config", str(folder / "mcp.json"),
            "--out", str(folder / "run"), "--json", "--concurrency", "4", *extra]
    assert run(args) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def scored(folder: Path, iteration: int) -> dict:
    lines = (folder / "run" / f"iter-{iteration}" / "results.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    return {r["id"]: (r["answer"], r["em"], r["f1"], r["reward"], len(r["retrieved_case_ids"])) for r in rows}


def test_a_run_resumed_on_ray_matches_a_local_run(local_ray, tmp_path, fake_openai, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("MEMENTO_CLIENT_MODEL", "fake-model")
    fake_openai.responder = SlowScript(answers=ANSWERS, tool=("toy__echo", {"text": "look"}))
    local, fanned = workspace(tmp_path, "local"), workspace(tmp_path, "ray")

    expected = evaluate(local, capsys, "--iterations", "2")
    before = len(fake_openai.chat_requests)
    evaluate(fanned, capsys, "--iterations", "1")  # iteration 1 locally, then resumed on Ray
    first = len(fake_openai.chat_requests) - before
    summary = evaluate(fanned, capsys, "--iterations", "2", "--ray")

    assert len(fake_openai.chat_requests) - before - first == first  # only iteration 2 ran again, at the same cost
    assert [s["overall"] for s in summary["iterations"]] == [s["overall"] for s in expected["iterations"]]
    assert scored(fanned, 2) == scored(local, 2)  # answers, scores, rewards and retrieved cases per task
    assert all(count > 0 for *_, count in scored(fanned, 2).values())  # the actors reached the shared case bank
    stats = json.loads((fanned / "run" / "memory_stats.json").read_text())
    assert stats["cases"] == json.loads((local / "run" / "memory_stats.json").read_text())["cases"] == 8
    assert sorted(p.name for p in (fanned / "run" / "logs").iterdir() if p.name.startswith("worker-")) == ["worker-0", "worker-1"]

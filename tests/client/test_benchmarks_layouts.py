"""Each benchmark's own file layout, from fixtures the tests write: loaded, then run end to end through
`memento eval` with the fake model over real MCP servers, and scored exactly: GAIA (attachments read
through the real documents server, images sent as image parts, pass@k, per level), GPQA and MMLU-Pro
(shuffled options), AIME, HLE (judged) and VQA."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet
import pytest

from memento_client.cli import run
from memento_client.eval.datasets import load_dataset
from memento_client.eval.runs import runs_root
from memento_client.eval.scoring import LETTERS
from memento_core.errors import ConfigError
from tests.client.conftest import REPO, with_memory
from tests.client.scripted import AgentScript, answer_json, role_of, task_of
from tests.client.test_rate import _bank
from tests.fakes.openai_server import text_reply, tool_call_reply

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32  # the magic is what the loader checks; the fake model never decodes it
PNG_URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _gaia(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("Rehearsal notes: the band that played was The Beatles.\n")
    (folder / "animal.png").write_bytes(PNG)
    rows = [
        {"task_id": "g1", "Question": "Which band is named in the notes?", "Level": 1, "Final answer": "The Beatles", "file_name": "notes.txt"},
        {"task_id": "g2", "Question": "How many legs has the animal?", "Level": "2", "Final answer": "4", "file_name": "animal.png"},
        {"task_id": "g3", "Question": "List the primes below 6.", "Level": 2, "Final answer": "2, 3, 5", "file_name": ""},
    ]
    _jsonl(folder / "metadata.jsonl", rows)
    return folder


GPQA_HEADER = "Record ID,Question,Correct Answer,Incorrect Answer 1,Incorrect Answer 2,Incorrect Answer 3,High-level domain,Subdomain\n"


def _gpqa(folder: Path) -> Path:
    path = folder / "gpqa_diamond.csv"
    path.write_text(
        GPQA_HEADER
        + "rec1,What is the charge of an electron?,-1 e,+1 e,0,+2 e,Physics,Electromagnetism\n"
        + 'rec2,"Which base pairs with adenine in DNA?",thymine,cytosine,guanine,uracil,Biology,Molecular Biology\n'
    )
    return path


def _mmlu_pro(folder: Path) -> Path:
    rows = [
        {"question_id": 70, "question": "2 + 2 = ?", "options": ["3", "4", "5", "22", "N/A"], "answer": "B", "answer_index": 1, "cot_content": "", "category": "math", "src": "x"},
        {"question_id": 71, "question": "Capital of Italy?", "options": ["Rome", "Milan", "Turin"], "answer": "A", "answer_index": 0, "cot_content": "", "category": "history", "src": "x"},
    ]  # fmt: skip
    path = folder / "test-00000-of-00001.parquet"
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), path)
    return path


def _aime(folder: Path) -> Path:
    rows = [{"id": 60, "problem": "Find m+n.", "answer": "33", "year": 2024}, {"id": 61, "problem": "Find the remainder.", "answer": "204", "year": 2024}]
    return _jsonl(folder / "aime_2024.jsonl", rows)


def _hle(folder: Path) -> Path:
    rows = [
        {"id": "h1", "question": "What does the diagram show?", "image": PNG_URI, "answer": "a torus", "answer_type": "exactMatch", "category": "Math"},
        {"id": "h2", "question": "Who proved it?", "image": "", "answer": "Wiles", "answer_type": "exactMatch", "category": "Math"},
        {"id": "h3", "question": "Which element?", "image": "", "answer": "Neon", "answer_type": "exactMatch", "category": "Chemistry"},
    ]
    path = folder / "hle_test.parquet"
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), path)
    return path


def _vqa(folder: Path) -> Path:
    (folder / "images").mkdir()
    (folder / "images" / "cat.png").write_bytes(PNG)
    rows = [
        {"question_id": 1, "image": "images/cat.png", "question": "What animal is this?", "answers": [{"answer": "cat"}, {"answer": "cat"}, {"answer": "kitten"}]},
        {"question_id": 2, "image": base64.b64encode(PNG).decode(), "question": "What colour is the sky?", "answers": ["blue"]},
    ]  # fmt: skip
    return _jsonl(folder / "vqa_val.jsonl", rows)


def test_each_layout_loads_with_its_fields(tmp_path):
    layout, gaia = load_dataset(_gaia(tmp_path / "gaia"))
    assert layout == "gaia" and [i.id for i in gaia] == ["g1", "g2", "g3"]
    notes, animal, primes = gaia
    assert notes.files == (str((tmp_path / "gaia" / "notes.txt").resolve()),) and notes.images == () and notes.group == "level 1"
    assert animal.images == animal.files and animal.group == "level 2" and primes.files == () and primes.answers == ["2, 3, 5"]
    assert {i.kind for i in gaia} == {"gaia"} and notes.source == "gaia"

    layout, gpqa = load_dataset(_gpqa(tmp_path), seed=3)
    assert layout == "gpqa" and {i.group for i in gpqa} == {"Physics", "Biology"}
    for item, correct in zip(sorted(gpqa, key=lambda i: i.id), ["-1 e", "thymine"]):
        assert item.kind == "choice" and len(item.choices) == 4 and correct in item.choices
        assert item.choices[LETTERS.index(item.answers[0])] == correct  # the gold letter follows the shuffle
        assert f"{item.answers[0]}) {correct}" in item.question
    orders = {tuple(load_dataset(_gpqa(tmp_path), seed=seed)[1][0].choices) for seed in range(8)}
    assert len(orders) > 1  # the seed shuffles the options (GPQA lists the correct answer first)
    assert load_dataset(_gpqa(tmp_path), seed=3)[1] == gpqa  # and the same seed shuffles the same way

    layout, mmlu = load_dataset(_mmlu_pro(tmp_path))
    assert layout == "mmlu-pro" and [len(i.choices) for i in mmlu] == [4, 3]  # "N/A" padding dropped
    assert [i.choices[LETTERS.index(i.answers[0])] for i in mmlu] == ["4", "Rome"] and mmlu[0].group == "math"

    layout, aime = load_dataset(_aime(tmp_path))
    assert layout == "aime" and [(i.id, i.answers, i.kind, i.group) for i in aime] == [("60", ["33"], "integer", "2024"), ("61", ["204"], "integer", "2024")]

    layout, hle = load_dataset(_hle(tmp_path))
    assert layout == "hle" and hle[0].images == (PNG_URI,) and hle[1].images == () and hle[0].kind == "judge" and hle[2].group == "Chemistry"

    layout, vqa = load_dataset(_vqa(tmp_path))
    assert layout == "vqa" and vqa[0].answers == ["cat", "kitten"] and vqa[0].images == (str((tmp_path / "images" / "cat.png").resolve()),)
    assert vqa[1].images == (PNG_URI,)  # bare base64 becomes a data URI


def test_bad_benchmark_files_fail_with_one_line_that_says_what_to_fix(tmp_path):
    folder = _gaia(tmp_path / "gaia")
    (folder / "notes.txt").unlink()
    with pytest.raises(ConfigError, match="attachment notes.txt is not in"):
        load_dataset(folder)
    with pytest.raises(ConfigError, match="has no metadata.jsonl"):
        load_dataset(tmp_path)
    bad = _jsonl(tmp_path / "mmlu.jsonl", [{"question": "Q?", "options": ["a", "b"], "answer_index": 5}])
    with pytest.raises(ConfigError, match=r"mmlu.jsonl:1: answer_index"):
        load_dataset(bad)
    with pytest.raises(ConfigError, match="unknown benchmark 'mmlu'"):
        load_dataset(bad, benchmark="mmlu")
    broken = _jsonl(tmp_path / "vqa.jsonl", [{"question": "Q?", "image": "missing.png", "answers": ["x"]}])
    with pytest.raises(ConfigError, match="is no file in"):
        load_dataset(broken)
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(ConfigError, match="not a parquet file"):
        load_dataset(tmp_path / "x.parquet")


def test_a_dataset_cannot_point_the_agent_or_the_model_outside_its_folder(tmp_path):
    """Attack: a downloaded dataset names files outside its folder, to have them read by the documents
    server (added to its roots) or sent to the model as images."""
    (tmp_path / "secret.txt").write_text("api key")
    (tmp_path / "secret.png").write_bytes(PNG)
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "link.png").symlink_to(tmp_path / "secret.png")
    row = {"task_id": "t", "Question": "Q?", "Level": 1, "Final answer": "x"}
    for name in ("../secret.txt", str(tmp_path / "secret.txt"), "link.png"):
        _jsonl(folder / "metadata.jsonl", [{**row, "file_name": name}])
        with pytest.raises(ConfigError, match="is outside the dataset's folder"):
            load_dataset(folder)
    for image in ("../secret.png", str(tmp_path / "secret.png"), "link.png"):
        _jsonl(folder / "vqa.jsonl", [{"question": "Q?", "image": image, "answers": ["x"]}])
        with pytest.raises(ConfigError, match="is outside the dataset's folder"):
            load_dataset(folder / "vqa.jsonl")


def test_images_in_every_encoding(tmp_path):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 30  # its base64 starts with "/9j/", like a path from the root
    rows = [{"question": "a?", "image": {"bytes": PNG, "path": "a.png"}, "answers": ["x"]}]  # a parquet image column
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), tmp_path / "vqa.parquet")
    assert load_dataset(tmp_path / "vqa.parquet")[1][0].images == (PNG_URI,)
    _jsonl(tmp_path / "jpeg.jsonl", [{"question": "b?", "image": base64.b64encode(jpeg).decode(), "answers": ["y"]}])
    assert load_dataset(tmp_path / "jpeg.jsonl")[1][0].images == ("data:image/jpeg;base64," + base64.b64encode(jpeg).decode(),)
    _jsonl(tmp_path / "text.jsonl", [{"question": "c?", "image": base64.b64encode(b"plain text here!").decode(), "answers": ["z"]}])
    with pytest.raises(ConfigError, match="is no file in .*, data URI or base64 image"):
        load_dataset(tmp_path / "text.jsonl")


@pytest.fixture
def workspace(tmp_path, fake_openai, monkeypatch):
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    documents = {"command": "memento-documents", "args": ["--root", str(tmp_path), "--max-file-mb", "5"]}  # holds the datasets
    (tmp_path / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy, "documents": documents}}))
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test")
    monkeypatch.setenv("MEMENTO_CLIENT_MODEL", "fake-model")
    return tmp_path


def _eval(ws: Path, dataset: Path, capsys, *flags: str, out: Path | None = None) -> tuple[dict, Path]:
    out = out or ws / "run"
    args = ["eval", "--dataset", str(dataset), "--mcp-config", str(ws / "mcp.json"), "--out", str(out), "--memory", "off", "--json", *flags]
    assert run(args) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["iterations"][-1], out


def test_gaia_runs_end_to_end_with_attachments_images_pass_at_k_and_levels(workspace, fake_openai, capsys):
    folder = _gaia(workspace / "gaia")
    script = AgentScript(answers={"Which band is named in the notes?": "Beatles", "List the primes below 6.": "2; 3; 5"})
    answered: dict[str, int] = {}

    def responder(request):
        role, task = role_of(request), task_of(request)
        used_tool = any(m.get("role") == "tool" for m in request.messages)
        if role == "executor" and task.startswith("Which band") and not used_tool:
            return tool_call_reply(("documents__read_document", {"source": str(staged)}))
        if role == "executor" and task.startswith("List the primes") and not used_tool:  # after the gold answers
            return tool_call_reply(("documents__read_document", {"source": str(folder / "metadata.jsonl")}))
        if role == "planner" and task.startswith("How many legs") and "Results of cycle" in request.text():
            answered[task] = answered.get(task, 0) + 1
            return text_reply(answer_json("5" if answered[task] == 1 else "4.0"))  # wrong at the first attempt only
        return script(request)

    staged = (workspace / "run" / "attachments" / "g1" / "notes.txt").resolve()
    fake_openai.responder = responder
    summary, out = _eval(workspace, folder, capsys, "--attempts", "2", "--concurrency", "1", "--vision")
    # g1 "Beatles" vs "The Beatles": no article removal in GAIA, wrong; g2 wrong then right: pass@2 1, @1 0.5;
    # g3 "2; 3; 5" vs "2, 3, 5": a list, element by element, right
    assert summary["attempts"] == 2
    assert (summary["overall"]["acc"], summary["overall"]["acc@1"]) == (round(2 / 3, 4), 0.5)
    assert summary["by_group"]["level 1"]["acc"] == 0.0 and summary["by_group"]["level 2"]["acc"] == 1.0
    assert summary["by_group"]["level 2"]["acc@1"] == 0.75
    rows = [json.loads(line) for line in (out / "iter-1" / "results.jsonl").read_text().splitlines()]
    assert sorted((r["id"], r["attempt"], r["acc"]) for r in rows) == [("g1", 1, 0.0), ("g1", 2, 0.0), ("g2", 1, 0.0), ("g2", 2, 1.0), ("g3", 1, 1.0), ("g3", 2, 1.0)]

    # the attachment was read through the documents server from the run's copy, its only root for the run
    # (mcp.json's root, which holds the dataset, dropped): metadata.jsonl and its gold answers stay out of reach
    assert staged.read_text() == (folder / "notes.txt").read_text()
    events = [e for line in (out / "iter-1" / "trajectories.jsonl").read_text().splitlines() for e in json.loads(line)["events"]]
    reads = [e for e in events if e["kind"] == "tool" and e["name"] == "documents__read_document"]
    assert sorted(e["ok"] for e in reads) == [False, False, True, True]  # notes.txt read twice, metadata.jsonl refused twice
    tool_replies = [m["content"] for r in fake_openai.chat_requests for m in r.messages if m.get("role") == "tool"]
    assert any("The Beatles" in c and "Rehearsal notes" in c for c in tool_replies)
    assert not any('"Final answer"' in c or "Final answer" in c for c in tool_replies)
    planner = [r for r in fake_openai.chat_requests if role_of(r) == "planner" and task_of(r).startswith("Which band")]
    assert f"Attached file: {staged}" in planner[0].text() and "comma-separated list" in planner[0].text()

    # the image went to the model as an image part, in every planner and executor request of its task only
    for request in fake_openai.chat_requests:
        expected = [PNG_URI] if task_of(request).startswith("How many legs") else []
        assert request.image_urls() == expected
    report = (out / "report.md").read_text()
    assert "## Per level / subject" in report and "| level 2 | 2 | 1.000 | 0.750 |" in report
    assert "pass@2" in report and "GAIA's quasi-exact match" in report
    config = json.loads((out / "config.json").read_text())
    assert (config["benchmark"], config["attempts"], config["vision"]) == ("gaia", 2, True)


def test_without_vision_no_image_is_sent_and_the_run_says_so(workspace, fake_openai, capsys):
    folder = _gaia(workspace / "gaia")
    fake_openai.responder = AgentScript(answers={})
    out = workspace / "run"
    args = ["eval", "--dataset", str(folder), "--mcp-config", str(workspace / "mcp.json"), "--out", str(out), "--memory", "off", "--limit", "2"]
    assert run(args) == 0
    assert "warning: 1 task(s) have images the model will not see: pass --vision" in capsys.readouterr().err
    assert fake_openai.chat_requests and not any(r.image_urls() for r in fake_openai.chat_requests)


def _correct_letter_script(dataset: Path, seed: int, wrong_id: str) -> AgentScript:
    """Answer every question with its correct letter in a sentence, except `wrong_id` (the next letter)."""
    answers = {}
    for item in load_dataset(dataset, seed=seed)[1]:
        letter = item.answers[0]
        if item.id == wrong_id:
            letter = LETTERS[(LETTERS.index(letter) + 1) % len(item.choices)]
        answers[item.question.splitlines()[0]] = f"After checking, the answer is ({letter})."
    return AgentScript(answers=answers)


@pytest.mark.parametrize(("make", "wrong", "groups"), [(_gpqa, "rec2", {"Physics": 1.0, "Biology": 0.0}), (_mmlu_pro, "71", {"math": 1.0, "history": 0.0})])
def test_multiple_choice_is_scored_by_the_letter_of_the_shuffled_options(workspace, fake_openai, capsys, make, wrong, groups):
    dataset = make(workspace)
    fake_openai.responder = _correct_letter_script(dataset, 5, wrong)
    summary, out = _eval(workspace, dataset, capsys, "--seed", "5")
    assert summary["overall"]["acc"] == 0.5
    assert {group: scores["acc"] for group, scores in summary["by_group"].items()} == groups
    planner = next(r for r in fake_openai.chat_requests if role_of(r) == "planner")
    assert "the letter of the correct option only" in planner.text() and "A) " in planner.text()


def test_aime_is_scored_by_integer_match(workspace, fake_openai, capsys):
    fake_openai.responder = AgentScript(answers={"Find m+n.": "So m+n = \\boxed{033}", "Find the remainder.": "The remainder is 240"})
    summary, _ = _eval(workspace, _aime(workspace), capsys, out=runs_root() / "aime-run")
    assert summary["overall"]["acc"] == 0.5 and summary["by_group"]["2024"]["acc"] == 0.5
    assert run(["runs"]) == 0
    assert "aime-run" in (listed := capsys.readouterr().out) and "ACC 0.500 EM 0.000" in listed


def test_hle_is_scored_by_the_judge_and_its_image_reaches_the_model(workspace, fake_openai, capsys):
    fake_openai.responder = AgentScript(answers={"What does the diagram show?": "a torus", "Who proved it?": "Andrew Wiles", "Which element?": "Argon"})
    summary, _ = _eval(workspace, _hle(workspace), capsys, "--judge-model", "fake-judge", "--vision")
    # the scripted judge accepts a verbatim gold answer only: "a torus" yes, "Andrew Wiles" and "Argon" no
    assert summary["overall"]["acc"] == round(1 / 3, 4) and summary["overall"]["pm"] == round(1 / 3, 4)
    assert summary["by_group"]["Math"]["acc"] == 0.5 and summary["by_group"]["Chemistry"]["acc"] == 0.0
    images = [r.image_urls() for r in fake_openai.chat_requests if task_of(r) == "What does the diagram show?"]
    judged = [r for r in fake_openai.chat_requests if r.body["model"] == "fake-judge"]
    assert images and all(i == [PNG_URI] for i in images) and judged and not any(r.image_urls() for r in judged)


def test_vqa_sends_the_image_and_scores_against_every_annotator_answer(workspace, fake_openai, capsys):
    fake_openai.responder = AgentScript(answers={"What animal is this?": "A kitten.", "What colour is the sky?": "grey"})
    summary, _ = _eval(workspace, _vqa(workspace), capsys, "--vision")
    assert (summary["overall"]["em"], summary["overall"]["f1"]) == (0.5, 0.5)
    assert {tuple(r.image_urls()) for r in fake_openai.chat_requests} == {(PNG_URI,)}


def test_the_paper_preset_sets_and_records_the_protocol(workspace, fake_openai, capsys):
    folder = _gaia(workspace / "gaia")
    fake_openai.responder = AgentScript(answers={})
    summary, out = _eval(workspace, folder, capsys, "--preset", "paper", "--limit", "1", "--concurrency", "1")
    config = json.loads((out / "config.json").read_text())
    assert config["preset"] == {
        "name": "paper",
        "protocol": {"iterations": 1, "attempts": 3, "cases_k": 4, "same_task_cases": "allowed", "judge": False},
    }
    assert config["attempts"] == 3 and config["same_task_cases"] == "allowed" and config["client"]["cases_k"] == 4
    assert summary["attempts"] == 3 and "preset: paper" in (out / "report.md").read_text()

    args = ["eval", "--dataset", str(_aime(workspace)), "--mcp-config", str(workspace / "mcp.json"), "--preset", "paper", "--iterations", "2"]
    assert run([*args, "--out", str(workspace / "aime"), "--json"]) == 0  # an explicit flag wins over the preset
    recorded = json.loads((workspace / "aime" / "config.json").read_text())
    assert recorded["iterations"] == 2 and recorded["preset"]["protocol"]["iterations"] == 1
    qa = _jsonl(workspace / "nq.jsonl", [{"question": "Q?", "answers": ["a"]}])
    assert run(["eval", "--dataset", str(qa), "--mcp-config", str(workspace / "mcp.json"), "--preset", "paper"]) == 2
    assert "--preset paper scores qa with a judge model (PM): pass --judge-model" in capsys.readouterr().err


def test_more_attempts_on_resume_run_only_the_new_ones(workspace, fake_openai, capsys):
    fake_openai.responder = AgentScript(answers={"Find m+n.": "33", "Find the remainder.": "204"})
    dataset = _aime(workspace)
    first, out = _eval(workspace, dataset, capsys)
    assert "attempts" not in first and first["overall"]["acc"] == 1.0
    fake_openai.requests.clear()
    second, _ = _eval(workspace, dataset, capsys, "--attempts", "2")
    planners = [r for r in fake_openai.chat_requests if role_of(r) == "planner" and "Results of cycle" not in r.text()]
    assert sorted(task_of(r) for r in planners) == ["Find m+n.", "Find the remainder."]  # each task once more, not twice
    assert second["attempts"] == 2 and second["overall"]["acc@1"] == 1.0
    assert json.loads((out / "config.json").read_text())["attempts"] == 2


def test_with_attachments_the_documents_server_reads_only_them():
    from memento_client.commands import attachment_entries
    from memento_client.mcp.config import ServerEntry

    documents = ServerEntry("documents", command="memento-documents", args=("--root", "/data", "--max-file-mb", "5", "--root=/home"))
    others = [ServerEntry("code", command="memento-code", args=("--root", "/x")), ServerEntry("documents2", url="http://127.0.0.1:1/mcp")]
    files = [Path("/run/attachments/t1/a.pdf"), Path("/run/attachments/t1/b.png"), Path("/run/attachments/t2/c.xlsx")]
    entries = attachment_entries([documents, *others], files)
    assert entries[0].args == ("--max-file-mb", "5", "--root", "/run/attachments/t1", "--root", "/run/attachments/t2")
    assert entries[1:] == others
    assert attachment_entries([documents], []) == [documents]  # no attachments: the user's roots stay


def test_the_run_warns_before_it_starts_of_what_would_go_unseen_or_unscored(tmp_path):
    from memento_client.commands import _warnings
    from memento_client.config import ClientConfig
    from memento_client.mcp.config import ServerEntry

    _, gaia = load_dataset(_gaia(tmp_path / "gaia"))
    _, hle = load_dataset(_hle(tmp_path))
    plain = ClientConfig(model="m")
    local = [ServerEntry("documents", command="memento-documents")]
    remote = [ServerEntry("documents", url="http://127.0.0.1:1/mcp")]
    assert _warnings(gaia, plain, local) == ["1 task(s) have images the model will not see: pass --vision (or vision = true) if it takes image input"]
    assert _warnings(gaia, ClientConfig(model="m", vision=True), remote) == [
        "2 task(s) have attached files, but no local documents server in mcp.json can read them"
    ]
    assert _warnings(hle, ClientConfig(model="m", vision=True), []) == ["this benchmark is scored by a judge model: without --judge-model it has no ACC"]
    assert _warnings(hle, ClientConfig(model="m", vision=True, judge_model="j"), []) == []


def test_a_case_is_rewarded_by_the_benchmarks_score_not_by_f1(workspace, fake_openai, capsys):
    with_memory(workspace)
    folder = _gaia(workspace / "gaia")
    (folder / "metadata.jsonl").write_text("\n".join((folder / "metadata.jsonl").read_text().splitlines()[0:3:2]) + "\n")  # g1, g3
    fake_openai.responder = AgentScript(answers={"Which band is named in the notes?": "Beatles", "List the primes below 6.": "2,3,5"})
    _, out = _eval(workspace, folder, capsys, "--memory", "similarity", "--concurrency", "1")
    rows = {r["id"]: r for r in map(json.loads, (out / "iter-1" / "results.jsonl").read_text().splitlines())}
    # "Beatles": F1 1.0 against "The Beatles" (SQuAD drops articles), GAIA 0; "2,3,5": F1 0 ("235"), GAIA 1
    assert [(rows[t]["f1"], rows[t]["acc"], rows[t]["reward"]) for t in ("g1", "g3")] == [(1.0, 0.0, 0.0), (0.0, 1.0, 1.0)]
    bank = _bank(workspace)
    assert bank[rows["g1"]["case_id"]]["reward"] == 0.0 and bank[rows["g3"]["case_id"]]["reward"] == 1.0

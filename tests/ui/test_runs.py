"""How the UI reads a run folder's state: finished (its report written), running (files changing, with the
tasks in flight the eval records), interrupted (neither), on copies of a real eval run; and how a case's
provenance from the bank links to local runs."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timezone

from memento_client.eval.runfiles import PROGRESS, write_json
from memento_client.ui import runs as ui_runs
from memento_memory.models import CaseUse
from tests.ui.conftest import SIMILARITY


def test_status_follows_the_report_and_the_files_age(runs, home):
    copy = home / "data" / "runs" / "eval-copy"
    shutil.copytree(runs[SIMILARITY], copy)
    try:
        assert ui_runs.progress(copy)["status"] == "finished"
        (copy / ui_runs.SUMMARY).unlink()  # as while the eval still runs
        results = copy / "iter-2" / "results.jsonl"
        rows = results.read_text().splitlines()
        results.write_text("\n".join(rows[:1]) + "\n")  # one task of iteration 2 done
        now = ui_runs.progress(copy)
        assert (now["status"], now["done"], now["planned"], now["iteration"]) == ("running", 5, 8, 2)
        assert now["running"] == [] and now["latest"][0]["iteration"] == 2  # the finished run's progress.json: none in flight
        flying = [{"id": "q3", "attempt": 1, "question": "44th US president?", "started": time.time() - 1, "extra": "dropped"},
                  {"id": "q2", "attempt": 1, "question": "Largest planet?", "started": time.time() - 2}]  # fmt: skip
        write_json(copy / PROGRESS, {"iteration": 2, "started": 7, "finished": 5, "in_flight": flying})
        assert [t["id"] for t in ui_runs.progress(copy)["running"]] == ["q2", "q3"]  # first started first
        (copy / PROGRESS).write_text('{"in_flight": [{"id": "q2"}')  # unreadable: none shown, no crash
        assert ui_runs.progress(copy)["running"] == []
        write_json(copy / PROGRESS, {"iteration": 2, "started": 7, "finished": 5, "in_flight": flying})
        old = time.time() - ui_runs.RUNNING_WINDOW_S - 60
        for path in [copy / "config.json", copy / PROGRESS, *copy.glob("iter-*/results.jsonl")]:
            os.utime(path, (old, old))
        assert (ui_runs.progress(copy)["status"], ui_runs.progress(copy)["running"]) == ("interrupted", [])  # stale: not in flight
        assert ui_runs.run_folder("eval-copy") == copy.resolve()
    finally:
        shutil.rmtree(copy)


def test_a_case_s_provenance_links_local_tasks_and_keeps_other_machines_runs(runs):
    written = next(r for r in ui_runs.results(runs[SIMILARITY]) if r["iteration"] == 2 and r["id"] == "q1")
    when = datetime.now(timezone.utc)
    uses = [
        CaseUse(task="Capital of France?", case_id="c", reward=1.0, run_id=SIMILARITY, from_case=written["case_id"], created_at=when),
        CaseUse(task="Capital of Peru?", case_id="c", reward=0.0, run_id="eval-on-another-machine", from_case="x1", created_at=when),
        CaseUse(task="Imported", case_id="c", reward=0.5, run_id="../outside", created_at=when),
    ]
    local, remote, odd = ui_runs.retrieved_by(uses)
    assert (local["run"], local["id"], local["iteration"], local["em"]) == (SIMILARITY, "q1", 2, written["em"])
    assert (remote["run"], remote["run_id"], remote.get("id")) == (None, "eval-on-another-machine", None)  # shown, not linked
    assert (remote["question"], remote["reward"]) == ("Capital of Peru?", 0.0)
    assert odd["run"] is None and odd.get("id") is None  # a run id that is a path names no local folder

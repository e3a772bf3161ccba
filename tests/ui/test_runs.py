"""How the UI reads a run folder's state: finished (its report written), running (files changing),
interrupted (neither), on copies of a real eval run."""

from __future__ import annotations

import os
import shutil
import time

from memento_client.ui import runs as ui_runs
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
        assert len(now["waiting"]) == 3 and now["latest"][0]["iteration"] == 2
        old = time.time() - ui_runs.RUNNING_WINDOW_S - 60
        for path in [copy / "config.json", *copy.glob("iter-*/results.jsonl")]:
            os.utime(path, (old, old))
        assert ui_runs.progress(copy)["status"] == "interrupted"
        assert ui_runs.run_folder("eval-copy") == copy.resolve()
    finally:
        shutil.rmtree(copy)

"""`memento-search index` as a command: idempotent re-runs and clear failures."""

from __future__ import annotations

import json
import os
import subprocess

from tests.harness import script
from tests.search.conftest import DATA


def run_index(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([script("search"), "index", "--quiet", *args], env=env, capture_output=True, text=True, timeout=300)


def test_re_indexing_an_unchanged_corpus_does_nothing(hotpot_index):
    done = run_index(str(DATA / "corpus.jsonl"), "--index", str(hotpot_index))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert (report["files_unchanged"], report["files_indexed"], report["chunks_embedded"]) == (1, 0, 0)


def test_a_missing_path_exits_2_with_its_name(tmp_path):
    done = run_index(str(tmp_path / "nowhere"), "--index", str(tmp_path / "index"))
    assert done.returncode == 2 and "nowhere: no such file or folder" in done.stderr

"""Fixtures of the search tests: the HotpotQA fixture index (built once per session with the real
CLI and the real MiniLM), the fake engine server, and a tiny deterministic embedder for plumbing tests."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.harness import script
from tests.search.fake_engines import FakeEngines

DATA = Path(__file__).resolve().parents[1] / "data" / "hotpotqa"


@pytest.fixture(scope="session")
def hotpot_index(tmp_path_factory, models_dir) -> Path:
    """A LanceDB index of the 140-paragraph HotpotQA slice, built by `memento-search index`."""
    home = tmp_path_factory.mktemp("search-index-home")
    index = home / "index"
    env = {**os.environ, "MEMENTO_HOME": str(home), "MEMENTO_MODELS_DIR": str(models_dir), "HF_HUB_OFFLINE": "1"}
    command = [script("search"), "index", str(DATA / "corpus.jsonl"), "--index", str(index), "--quiet"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["documents"] == 140 and report["total_chunks"] >= 140
    return index


@pytest.fixture(scope="session")
def hotpot_questions() -> list[dict]:
    return [json.loads(line) for line in (DATA / "questions.jsonl").read_text().splitlines()]


@pytest.fixture(scope="session")
def fake_engines():
    with FakeEngines() as fake:
        yield fake


class HashEmbedder:
    """Deterministic bag-of-words vectors: enough to exercise storage, not to judge retrieval."""

    model_name = "test-hash-embedder"
    dim = 32

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()

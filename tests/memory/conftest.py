"""Fixtures of the case-memory tests: banks on real LanceDB in tmp_path, real embedders."""

from __future__ import annotations

from pathlib import Path

import pytest

from memento_memory.bank import CaseBank
from memento_memory.config import BankConfig
from memento_memory.embedding import FEATURE_HASH

DATA = Path(__file__).resolve().parents[1] / "data" / "memory"
MEMENTO_CASES = DATA / "memento_memory_sample.jsonl"
MEMENTO_TRAINING = DATA / "memento_training_sample.jsonl"


@pytest.fixture
def config(tmp_path) -> BankConfig:
    """A feature-hash bank (fast, no torch) in a fresh directory."""
    return BankConfig(db=str(tmp_path / "bank"), model=FEATURE_HASH, refresh_interval_s=0.1)


@pytest.fixture
def bank(config):
    with CaseBank.open(config) as opened:
        yield opened


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 embedder, loaded once for the session."""
    from memento_core.embeddings import Embedder

    return Embedder()

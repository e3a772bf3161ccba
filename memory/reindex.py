"""`memento-memory reindex`: re-embed a whole bank with another model or backend (one command)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from memento_memory.checkpoint import checkpoint_for
from memento_memory.config import BankConfig
from memento_memory.embedding import TextEmbedder
from memento_memory.store import CaseStore, case_schema, vector_column


def reindex(config: BankConfig, embedder: TextEmbedder | None = None) -> int:
    """Re-embed every case (and transition) with `config.model`; returns the number of cases."""
    embedder = embedder or config.embedder()
    store = CaseStore(config.database(), embedder.model_name, check_model=False, storage=config.storage_options())
    if not store.exists():
        return 0
    cases = store.read_all()
    transitions = store.read_transitions()
    dim = embedder.dim
    vectors = embedder.embed(cases.column("task").to_pylist()) if cases.num_rows else np.zeros((0, dim), np.float32)
    rows = cases.drop_columns(["vector"]).append_column(
        "vector", vector_column(vectors) if len(vectors) else pa.array([], pa.list_(pa.float32(), dim))
    )
    store.overwrite(rows.cast(case_schema(embedder.model_name, dim)), dim)
    if transitions.num_rows:
        task_vectors = embedder.embed(transitions.column("task").to_pylist())
        store.add_transitions(
            transitions.drop_columns(["task_vector"]).append_column("task_vector", vector_column(task_vectors))
        )
    checkpoint_for(config).delete()  # its features came from the old model
    return cases.num_rows

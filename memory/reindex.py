"""`memento-memory reindex`: re-embed a whole bank with another model or backend (one command)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from memento_memory.checkpoint import checkpoint_for
from memento_memory.config import BankConfig
from memento_memory.embedding import TextEmbedder
from memento_memory.learning import Progress
from memento_memory.store import CaseStore, case_schema, vector_column

BATCH = 256  # texts embedded between two progress reports


def _embed(embedder: TextEmbedder, texts: list[str], on_progress: Progress | None, what: str) -> np.ndarray:
    parts = [np.zeros((0, embedder.dim), np.float32)]
    for start in range(0, len(texts), BATCH):
        parts.append(embedder.embed(texts[start : start + BATCH]))
        if on_progress:
            on_progress(min(start + BATCH, len(texts)), len(texts), what)
    return np.concatenate(parts)


def reindex(config: BankConfig, embedder: TextEmbedder | None = None, on_progress: Progress | None = None) -> int:
    """Re-embed every case (and transition) with `config.model`, reporting each batch to `on_progress`;
    returns the number of cases."""
    embedder = embedder or config.embedder()
    store = CaseStore(config.database(), embedder.model_name, check_model=False, storage=config.storage_options())
    if not store.exists():
        return 0
    cases = store.read_all()
    transitions = store.read_transitions()
    dim = embedder.dim
    vectors = _embed(embedder, cases.column("task").to_pylist(), on_progress, "cases re-embedded")
    rows = cases.drop_columns(["vector"]).append_column(
        "vector", vector_column(vectors) if len(vectors) else pa.array([], pa.list_(pa.float32(), dim))
    )
    store.overwrite(rows.cast(case_schema(embedder.model_name, dim)), dim)
    if transitions.num_rows:
        task_vectors = _embed(embedder, transitions.column("task").to_pylist(), on_progress, "transitions re-embedded")
        store.add_transitions(
            transitions.drop_columns(["task_vector"]).append_column("task_vector", vector_column(task_vectors))
        )
    checkpoint_for(config).delete()  # its features came from the old model
    return cases.num_rows

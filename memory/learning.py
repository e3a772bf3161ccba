"""The learned policy's side of the bank: recording transitions, online and offline training,
scoring shortlists, and reporting the training state."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from memento_core import paths
from memento_memory.config import BankConfig
from memento_memory.errors import InvalidCaseError
from memento_memory.mirror import Mirror
from memento_memory.models import ScorerState, Transition
from memento_memory.scorer import Scorer
from memento_memory.store import CaseStore, transition_schema, vector_column
from memento_memory.trainer import Batch, OnlineTrainer


def checkpoint_path(config: BankConfig) -> Path:
    """The scorer checkpoint: beside the table, or in the cache dir for a remote bank."""
    local = config.local_dir()
    if local is not None:
        return local / "scorer.pt"
    digest = hashlib.sha256(config.database().encode()).hexdigest()[:16]
    return paths.cache_dir() / "memory" / digest / "scorer.pt"


def _batch(mirror: Mirror, transitions: Sequence[Transition], task_vectors: np.ndarray) -> Batch:
    cases = np.stack([mirror.vector(t.case_id) for t in transitions])
    case_rewards = np.array([mirror.cases[t.case_id].reward for t in transitions], dtype=np.float32)
    targets = np.array([t.reward for t in transitions], dtype=np.float32)
    return task_vectors.astype(np.float32), cases, case_rewards, targets


class PolicyLearning:
    """Owns the scorer and its trainer (created on first need: they import torch)."""

    def __init__(self, config: BankConfig, store: CaseStore, embedder):
        self.config = config
        self.store = store
        self.embedder = embedder
        self.checkpoint = checkpoint_path(config)
        self._parts: tuple[Scorer, OnlineTrainer] | None = None
        self._lock = threading.Lock()

    def _get(self) -> tuple[Scorer, OnlineTrainer]:
        with self._lock:
            if self._parts is None:
                scorer = Scorer(self.store.dim or self.embedder.dim, self.checkpoint, self.config.device)
                self._parts = (scorer, OnlineTrainer(scorer))
            return self._parts

    @property
    def scorer(self) -> Scorer:
        return self._get()[0]

    def observe(self, mirror: Mirror, transitions: Sequence[Transition], task_vectors: np.ndarray) -> int:
        """Persist transitions whose case is stored and queue them for online training."""
        keep = [i for i, t in enumerate(transitions) if t.case_id in mirror.cases]
        if not keep:
            return 0
        now = datetime.now(UTC)
        self.store.add_transitions(
            pa.table(
                {
                    "task": [transitions[i].task for i in keep],
                    "case_id": [transitions[i].case_id for i in keep],
                    "reward": [transitions[i].reward for i in keep],
                    "run_id": [transitions[i].run_id for i in keep],
                    "created_at": [now] * len(keep),
                    "task_vector": vector_column(task_vectors[keep]),
                },
                schema=transition_schema(task_vectors.shape[1]),
            )
        )
        if self.config.train_online:
            self._get()[1].add(_batch(mirror, [transitions[i] for i in keep], task_vectors[keep]))
        return len(keep)

    def fit(self, transitions: Sequence[Transition], mirror: Mirror | None, epochs: int) -> None:
        """Offline training in the calling thread."""
        known = [t for t in transitions if mirror is not None and t.case_id in mirror.cases]
        if not known:
            raise InvalidCaseError("none of the transitions refers to a case stored in this bank: import the cases first")
        tasks = sorted({t.task for t in known})
        by_task = dict(zip(tasks, self.embedder.embed(tasks)))
        self._get()[1].fit(_batch(mirror, known, np.stack([by_task[t.task] for t in known])), epochs)

    def ready(self) -> bool:
        """True once the scorer has been trained (here or by another process)."""
        if self._parts is None and not self.checkpoint.exists():
            return False
        return self.scorer.trained

    def wait(self, timeout: float) -> bool:
        return self._parts is None or self._parts[1].flush(timeout)

    def state(self) -> ScorerState:
        scorer = self.scorer if (self._parts is not None or self.checkpoint.exists()) else None
        if scorer is not None:
            scorer.reload_if_changed()
        return ScorerState(
            trained_steps=scorer.steps if scorer else 0,
            transitions=self.store.count_transitions(),
            last_loss=scorer.last_loss if scorer else None,
            checkpoint=str(self.checkpoint) if self.checkpoint.exists() else None,
        )

    def close(self) -> None:
        if self._parts is not None:
            self._parts[1].stop()

"""The learned policy's side of the bank: recording transitions, online and offline training,
the gate, per-case utilities, and reporting the training state.

Every transition is scored by the scorer *before* it trains on it, and stored with those two
predictions (learned and prior) and its provenance (the case written for the task). The gate and
the utilities are rebuilt from that table whenever it changes, by this process or another, so
every process sharing the bank agrees on them and a fresh process starts where the last one was.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from memento_memory.checkpoint import checkpoint_for
from memento_memory.config import BankConfig
from memento_memory.errors import InvalidCaseError
from memento_memory.history import History
from memento_memory.mirror import Mirror
from memento_memory.models import GateState, ScorerState, Transition
from memento_memory.scorer import Scorer, sigmoid
from memento_memory.store import CaseStore, transition_schema, vector_column
from memento_memory.trainer import Batch, OnlineTrainer

log = logging.getLogger(__name__)
OFFLINE_CHUNK = 256  # offline training scores each chunk before training on it, as online training does
Progress = Callable[[int, int, str], None]  # (done, total, what is counted), e.g. (256, 1278, "cases re-embedded")


def _batch(mirror: Mirror, transitions: Sequence[Transition], task_vectors: np.ndarray) -> Batch:
    cases = np.stack([mirror.vector(t.case_id) for t in transitions])
    case_rewards = np.array([mirror.cases[t.case_id].reward for t in transitions], dtype=np.float32)
    targets = np.array([t.reward for t in transitions], dtype=np.float32)
    written = np.array([t.from_case for t in transitions], dtype=object)
    return task_vectors.astype(np.float32), cases, case_rewards, targets, written


class PolicyLearning:
    """Owns the scorer and its trainer (created on first need: they import torch), the gate and the utilities."""

    def __init__(self, config: BankConfig, store: CaseStore, embedder, case_reward: Callable[[str], float]):
        self.config = config
        self.case_reward = case_reward  # a case's own reward: where its utility starts
        self.store = store
        self.embedder = embedder
        self.checkpoint = checkpoint_for(config)
        self._parts: tuple[Scorer, OnlineTrainer] | None = None
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._log_version = -1
        self._history = History(config, case_reward)

    def _get(self) -> tuple[Scorer, OnlineTrainer]:
        with self._lock:
            if self._parts is None:
                import torch

                torch.set_num_threads(self.config.torch_threads)  # process-wide; the torch embedder restores it
                scorer = Scorer(self.store.dim or self.embedder.dim, self.checkpoint, self.config.device)
                self._parts = (scorer, OnlineTrainer(scorer, half_life=self.config.replay_half_life))
            return self._parts

    @property
    def scorer(self) -> Scorer:
        return self._get()[0]

    def observe(self, mirror: Mirror, transitions: Sequence[Transition], task_vectors: np.ndarray) -> int:
        """Score transitions whose case is stored, persist them with those scores, and queue them for training."""
        keep = [i for i, t in enumerate(transitions) if t.case_id in mirror.cases]
        if not keep:
            return 0
        known = [transitions[i] for i in keep]
        batch = _batch(mirror, known, task_vectors[keep])
        self._record(batch, known)
        if self.config.train_online:
            self._get()[1].add(batch)
        return len(keep)

    def _record(self, batch: Batch, transitions: Sequence[Transition]) -> None:
        prior, learned = map(sigmoid, self.scorer.logits(*batch[:3]))
        now = datetime.now(UTC)
        with self._log_lock:
            before = self.store.transitions_version()
            self.store.add_transitions(
                pa.table(
                    {
                        "task": [t.task for t in transitions],
                        "case_id": [t.case_id for t in transitions],
                        "reward": [t.reward for t in transitions],
                        "run_id": [t.run_id for t in transitions],
                        "created_at": [now] * len(transitions),
                        "task_vector": vector_column(batch[0]),
                        "from_case": [t.from_case for t in transitions],
                        "p_learned": learned,
                        "p_prior": prior,
                        "gate_open": [self._history.gate.open] * len(transitions),
                    },
                    schema=transition_schema(batch[0].shape[1]),
                )
            )
            if before == self._log_version and self.store.transitions_version() == before + 1:  # nobody else wrote
                self._history.extend(
                    [t.case_id for t in transitions],
                    [t.reward for t in transitions],
                    [t.from_case for t in transitions],
                    learned.tolist(),
                    prior.tolist(),
                )
                self._log_version = before + 1
        self.refresh()

    def fit(
        self, transitions: Sequence[Transition], mirror: Mirror | None, epochs: int, on_progress: Progress | None = None
    ) -> None:
        """Offline training in the calling thread: chunk by chunk, each scored (and recorded) before
        training on it, then `epochs` passes over everything; each chunk and epoch is reported to `on_progress`."""
        known = [t for t in transitions if mirror is not None and t.case_id in mirror.cases]
        if not known:
            raise InvalidCaseError(
                "none of the transitions refers to a case stored in this bank: import the cases first"
            )
        by_task: dict[str, np.ndarray] = {}
        trainer = self._get()[1]
        for start in range(0, len(known), OFFLINE_CHUNK):
            chunk = known[start : start + OFFLINE_CHUNK]
            if new := sorted({t.task for t in chunk} - by_task.keys()):
                by_task.update(zip(new, self.embedder.embed(new)))
            batch = _batch(mirror, chunk, np.stack([by_task[t.task] for t in chunk]))
            self._record(batch, chunk)
            trainer.fit(batch, 1)
            if on_progress:
                on_progress(start + len(chunk), len(known), "transitions scored and trained on")
        for epoch in range(epochs):
            trainer.fit(tuple(part[:0] for part in batch), 1)
            if on_progress:
                on_progress(epoch + 1, epochs, "epochs over all transitions")

    def relabel(self, written: str, reward: float) -> int:
        """The task written as case `written` got a new reward (a user's rating): its transitions follow."""
        count = self.store.relabel_transitions(written, reward)
        if count:
            if self._parts is not None:
                self._parts[1].relabel(written, reward)
            self.refresh()
        return count

    def refresh(self) -> None:
        """Rebuild the history if the transitions table changed in another process (or was relabelled)."""
        with self._log_lock:
            version = self.store.transitions_version()
            if version != self._log_version:
                self._history = History.of(self.store.read_transition_log(), self.config, self.case_reward)
                self._log_version = version

    def gate(self) -> GateState:
        return self._history.gate

    def utilities(self, case_ids: Sequence[str], rewards: Sequence[float]) -> np.ndarray:
        return np.array(self._history.utilities.of(case_ids, rewards), dtype=np.float32)

    def ready(self) -> bool:
        """True once the scorer has been trained (here or by another process)."""
        if self._parts is None and self.checkpoint.stamp() is None:
            return False
        return self.scorer.trained

    def wait(self, timeout: float) -> bool:
        return self._parts is None or self._parts[1].flush(timeout)

    def state(self) -> ScorerState:
        scorer = self.scorer if (self._parts is not None or self.checkpoint.stamp() is not None) else None
        if scorer is not None:
            scorer.reload_if_changed()
        self.refresh()
        return ScorerState(
            trained_steps=scorer.steps if scorer else 0,
            transitions=self.store.count_transitions(),
            last_loss=scorer.last_loss if scorer else None,
            checkpoint=self.checkpoint.location if self.checkpoint.stamp() is not None else None,
            gate=self._history.gate,
        )

    def close(self) -> None:
        if self._parts is not None:
            self._parts[1].stop()

"""`CaseBank`: the case memory's public Python API (no MCP needed).

    bank = CaseBank.open(BankConfig(db="/tmp/cases"))
    bank.write([{"task": "...", "plan": {...}, "reward": 1.0}])
    found = bank.retrieve("a new task", k=4, policy="learned")
    bank.write([{"task": "a new task", "reward": 0.0, "retrieved_case_ids": found.ids}])  # the policy learns

LanceDB holds the cases durably; an in-memory mirror serves every read, refreshed by a
background thread whenever another process commits (see `mirror.py`).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from memento_core.vector_index import VectorIndex
from memento_memory import validation
from memento_memory.config import BankConfig
from memento_memory.embedding import QueryCache, TextEmbedder
from memento_memory.errors import CaseNotFoundError, InvalidCaseError
from memento_memory.learning import PolicyLearning, Progress
from memento_memory.mirror import Mirror
from memento_memory.models import (
    BankStats,
    Case,
    CaseFilters,
    NewCase,
    Policy,
    RetrievedCase,
    RetrievedCases,
    ScorerState,
    Transition,
    WriteReport,
)
from memento_memory.policy import choose, ranking, shortlist_size, split_by_reward
from memento_memory.scorer import sigmoid
from memento_memory.store import CaseStore, rows_table

log = logging.getLogger(__name__)
UPDATABLE = ("plan", "answer", "summary", "reward", "outcome", "tags", "trust")


def _now() -> datetime:
    return datetime.now(UTC)


def _row(case: NewCase, case_id: str, now: datetime, reward_threshold: float) -> dict[str, Any]:
    return {
        "id": case_id,
        "task": case.task,
        "plan": json.dumps(case.plan),
        "answer": case.answer,
        "summary": case.summary,
        "reward": case.reward,
        "outcome": case.outcome or ("success" if case.reward >= reward_threshold else "failure"),
        "source": case.source,
        "run_id": case.run_id,
        "trust": case.trust,
        "tags": list(case.tags),
        "created_at": now,
        "updated_at": now,
        "rev": uuid.uuid4().hex,
    }


class CaseBank:
    """A case bank on LanceDB with similarity and learned retrieval."""

    def __init__(self, config: BankConfig, embedder: TextEmbedder | None = None):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=config.blas_threads, user_api="blas")
        self.config = config
        self.embedder = embedder or config.embedder()
        self.queries = QueryCache(self.embedder.embed_query, config.query_cache_size)
        self.store = CaseStore(config.database(), self.embedder.model_name, storage=config.storage_options())
        self.rng = np.random.default_rng()
        self._mirror: Mirror | None = None
        self.learning = PolicyLearning(config, self.store, self.embedder, self._case_reward)
        self._writes = 0
        self._lock = threading.Lock()
        # held while committing and mirroring a change, and while syncing, so that a sync's
        # snapshot never undoes a change this process just mirrored
        self._commit_lock = threading.RLock()
        self._stop = threading.Event()
        self.sync()
        self._refresher = threading.Thread(target=self._refresh_loop, name="memento-bank-refresh", daemon=True)
        self._refresher.start()

    @classmethod
    def open(cls, config: BankConfig | None = None, embedder: TextEmbedder | None = None, **overrides: Any) -> CaseBank:
        """Open (or lazily create) the bank that `config` and `overrides` describe."""
        config = (config or BankConfig()).model_copy(update=overrides)
        return cls(config, embedder)

    def close(self) -> None:
        self._stop.set()
        self._refresher.join(5.0)
        self.learning.close()

    def __enter__(self) -> CaseBank:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # state
    def _case_reward(self, case_id: str) -> float:
        case = self._mirror.cases.get(case_id) if self._mirror is not None else None
        return case.reward if case is not None else self.config.reward_threshold

    def _ensure_mirror(self, dim: int) -> Mirror:
        with self._lock:
            if self._mirror is None:
                index = VectorIndex(dim, self.config.ann_threshold, self.config.ann_nprobe)
                self._mirror = Mirror(index)
            return self._mirror

    def sync(self) -> bool:
        """Pick up other processes' commits now (the background thread does this every refresh interval)."""
        with self._commit_lock:
            if not self.store.exists():
                return False
            return self._ensure_mirror(self.store.dim).sync(self.store)

    def build_index(self) -> str:
        """Build the IVF index now if the bank is past the threshold; returns the index description."""
        mirror = self._mirror
        while mirror is not None and mirror.index.needs_rebuild():
            mirror.index.rebuild()
        return mirror.index.describe() if mirror else "exact"

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.config.refresh_interval_s):
            try:
                self.sync()
                self.learning.refresh()
                self.build_index()
                if self._writes >= self.config.optimize_every:
                    self._writes = 0
                    self.store.optimize()
            except Exception:
                log.exception("case bank refresh failed")

    # writing
    def write(self, cases: Iterable[NewCase | dict[str, Any]], vectors: np.ndarray | None = None) -> WriteReport:
        """Store cases durably (returns once committed); `vectors` skips embedding (precomputed, same model).

        A case with a client-chosen `id` that is already stored is not written again: its stored
        version is returned. Cases carrying `retrieved_case_ids` record learning transitions.
        """
        items = validation.new_cases(cases, self.config)
        if any(item.id for item in items):
            self.sync()  # ids already stored are neither embedded nor written again
        stored = self._mirror.cases if self._mirror else {}
        todo = [i for i, item in enumerate(items) if not (item.id and item.id in stored)]
        ids = [item.id or uuid.uuid4().hex for item in items]
        created: list[int] = []
        if todo:
            todo_vectors = vectors[todo] if vectors is not None else self.embedder.embed([items[i].task for i in todo])
            created = self._insert([items[i] for i in todo], [ids[i] for i in todo], todo_vectors)
            created = [todo[i] for i in created]
            recorded = self._record(
                [items[i] for i in created], [ids[i] for i in created], todo_vectors[[todo.index(i) for i in created]]
            )
        else:
            recorded = 0
        self._writes += 1
        mirror = self._mirror
        return WriteReport(
            cases=[mirror.cases[case_id] for case_id in ids],
            created=[ids[i] for i in created],
            transitions=recorded,
        )

    def _insert(self, items: Sequence[NewCase], ids: Sequence[str], vectors: np.ndarray) -> list[int]:
        """Commit new cases; returns the positions actually stored (a concurrent writer may have won an id)."""
        self.store.ensure(vectors.shape[1])
        mirror = self._ensure_mirror(vectors.shape[1])
        now = _now()
        rows = [_row(item, case_id, now, self.config.reward_threshold) for item, case_id in zip(items, ids)]
        table = rows_table(rows, vectors, self.store.cases.schema)
        chosen = [i for i, item in enumerate(items) if item.id]
        with self._commit_lock:
            if not chosen:
                self.store.append(table)
                mirror.upsert(table)
                return list(range(len(items)))
            self.store.insert_absent(table)
            stored = self.store.read_ids(list(ids))
            mirror.upsert(stored)
        ours = set(zip(stored.column("id").to_pylist(), stored.column("rev").to_pylist()))
        return [i for i, row in enumerate(rows) if (row["id"], row["rev"]) in ours]

    def _record(self, items: Sequence[NewCase], ids: Sequence[str], vectors: np.ndarray) -> int:
        transitions = [
            (i, Transition(task=item.task, case_id=case_id, reward=item.reward, run_id=item.run_id, from_case=written))
            for i, (item, written) in enumerate(zip(items, ids))
            for case_id in item.retrieved_case_ids
        ]
        if not transitions:
            return 0
        return self.learning.observe(self._mirror, [t for _, t in transitions], vectors[[i for i, _ in transitions]])

    def train(self, transitions: Sequence[Transition], epochs: int = 5, on_progress: Progress | None = None) -> ScorerState:
        """Offline training of the learned scorer from transitions (their cases must be in the bank);
        `on_progress(done, total, what)` hears of each chunk and epoch."""
        self.learning.fit(transitions, self._mirror, epochs, on_progress)
        return self.stats().scorer

    def wait_trained(self, timeout: float = 60.0) -> bool:
        """Block until the online trainer has consumed every transition recorded so far."""
        return self.learning.wait(timeout)

    # reading
    def retrieve(
        self,
        task: str,
        k: int = 4,
        policy: Policy = "similarity",
        filters: CaseFilters | None = None,
        temperature: float = 0.0,
    ) -> RetrievedCases:
        """The k cases to plan `task` with, split into positive and negative by reward."""
        validation.check_task(task, self.config)
        validation.check_k(k, self.config)
        filters = filters or CaseFilters()
        threshold = self.config.reward_threshold
        mirror = self._mirror
        if mirror is None or not len(mirror):
            return RetrievedCases(task=task, policy=policy, positive=[], negative=[], reward_threshold=threshold)
        query = self.queries.embed_one(task)
        wanted = shortlist_size(k) if policy == "learned" else k
        slots, sims, ids = mirror.search(query, wanted, mirror.mask(filters))
        scores = utilities = None
        picked = np.arange(min(k, len(ids)))
        if policy == "learned" and len(ids):
            rewards = mirror.reward[slots]
            learned = None
            if self.learning.ready():
                _, learned = self.learning.scorer.logits(query, mirror.index.vectors[slots], rewards)
                scores = sigmoid(learned)
            if self.config.utility_weight > 0:
                utilities = self.learning.utilities(ids, rewards)
            gated = learned if self.learning.gate().open else None
            picked = choose(ranking(sims, gated, utilities, self.config.utility_weight), k, temperature, self.rng)
        found = [
            RetrievedCase(
                **mirror.cases[ids[i]].model_dump(),
                similarity=float(sims[i]),
                score=None if scores is None else float(scores[i]),
                utility=None if utilities is None else float(utilities[i]),
            )
            for i in picked
        ]
        positive, negative = split_by_reward(found, [case.reward for case in found], threshold)
        return RetrievedCases(task=task, policy=policy, positive=positive, negative=negative, reward_threshold=threshold)

    def get(self, case_id: str) -> Case:
        mirror = self._mirror
        case = mirror.cases.get(case_id) if mirror else None
        if case is None:
            raise CaseNotFoundError(f"no case with id '{case_id}': list_cases shows the stored ids")
        return case

    def list(self, filters: CaseFilters | None = None) -> list[Case]:
        """Every case passing `filters`, newest first."""
        filters = filters or CaseFilters(include_quarantined=True)
        mirror = self._mirror
        cases = [c for c in list(mirror.cases.values()) if mirror.matches(c, filters)] if mirror else []
        return sorted(cases, key=lambda c: (c.created_at, c.id), reverse=True)

    # changing
    def update(self, case_id: str, **changes: Any) -> Case:
        """Change a case's plan, answer, summary, reward, outcome, tags or trust (not its task).

        A new reward also relabels the learning transitions of the case's task (the cases it retrieved)
        and trains the learned policy on them: how a user's later verdict teaches the memory."""
        unknown = set(changes) - set(UPDATABLE)
        if unknown:
            raise InvalidCaseError(f"cannot update {sorted(unknown)}; updatable fields: {', '.join(UPDATABLE)}")
        self.sync()
        current = self.get(case_id)
        merged = validation.new_case({**current.model_dump(include=set(NewCase.model_fields)), **changes}, self.config)
        row = _row(merged, case_id, _now(), self.config.reward_threshold)
        row["created_at"] = current.created_at
        if "outcome" not in changes and "reward" in changes:
            row["outcome"] = "success" if merged.reward >= self.config.reward_threshold else "failure"
        elif "outcome" not in changes:
            row["outcome"] = current.outcome
        stored = self.store.read_ids([case_id])
        if stored.num_rows == 0:
            raise CaseNotFoundError(f"case '{case_id}' was deleted meanwhile")
        table = rows_table([row], np.stack([stored.column("vector")[0].values.to_numpy()]), self.store.cases.schema)
        with self._commit_lock:
            self.store.replace(table)
            self._mirror.upsert(table)
        self._writes += 1
        if "reward" in changes and merged.reward != current.reward:
            self.learning.relabel(case_id, merged.reward)  # the task's transitions learn the corrected outcome
        return self._mirror.cases[case_id]

    def quarantine(self, case_id: str) -> Case:
        """Keep a suspicious case out of every retrieval (it stays listable and restorable)."""
        return self.update(case_id, trust="quarantined")

    def restore(self, case_id: str) -> Case:
        return self.update(case_id, trust="trusted")

    def delete(self, case_ids: Sequence[str]) -> list[str]:
        """Delete cases; returns the ids that existed. Deleting a missing id is not an error."""
        for case_id in case_ids:
            validation.check_id(case_id)
        if not case_ids or not self.store.exists():
            return []
        self.sync()
        existed = [case_id for case_id in case_ids if self._mirror and case_id in self._mirror.cases]
        with self._commit_lock:
            self.store.delete(list(case_ids))
            if self._mirror:
                self._mirror.remove(case_ids)
        self._writes += 1
        return existed

    def stats(self) -> BankStats:
        """Counts as of now: other processes' commits are picked up first (a version check when there are none)."""
        self.sync()
        cases = list(self._mirror.cases.values()) if self._mirror else []
        trusted = [c for c in cases if c.trust == "trusted"]
        positive = sum(c.reward >= self.config.reward_threshold for c in trusted)
        return BankStats(
            cases=len(cases),
            trusted=len(trusted),
            quarantined=len(cases) - len(trusted),
            positive=positive,
            negative=len(trusted) - positive,
            database=self.config.database(),
            embedding_model=self.embedder.model_name,
            embedding_dim=self.store.dim or 0,
            index=self._mirror.index.describe() if self._mirror else "exact",
            scorer=self.learning.state(),
        )


"""An in-memory mirror of the cases table: the cases, their vectors, and masks for filtering.

Reads never touch LanceDB: retrieval, `get` and listings are served from here. `sync`
brings in other processes' commits by diffing (id, rev) pairs whenever the table's version
moves, so only new or changed rows are read, and stored vectors are never re-embedded.
Reading vectors out of arrow and the exact top-k are memento_core.vectors', shared with search.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)

from memento_core.vector_index import VectorIndex
from memento_core.vectors import vectors_of
from memento_memory.models import Case, CaseFilters
from memento_memory.store import CaseStore


def task_key(text: str) -> int:
    """A 63-bit hash of a task text with case and whitespace ignored (exact-duplicate detection)."""
    normal = " ".join(text.lower().split()).encode()
    return int.from_bytes(hashlib.blake2b(normal, digest_size=8).digest(), "little") >> 1


def case_from_row(row: dict) -> Case:
    plan = row.get("plan")
    try:
        plan = json.loads(plan) if plan is not None else None
    except ValueError:
        pass
    fields = {name: row[name] for name in Case.model_fields if name in row and name != "plan"}
    return Case(plan=plan, **fields)


def _grown(array: np.ndarray, size: int) -> np.ndarray:
    if size <= len(array):
        return array
    bigger = np.zeros(max(size, 2 * len(array)), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class Mirror:
    """Cases by id and by slot of the vector index, with per-slot filter columns."""

    def __init__(self, index: VectorIndex):
        self.index = index
        self.cases: dict[str, Case] = {}
        self.revs: dict[str, str] = {}
        self.slot_of: dict[str, int] = {}
        self.id_at: list[str | None] = []
        self.reward = np.zeros(1024, dtype=np.float32)
        self.trusted = np.zeros(1024, dtype=bool)
        self.task_keys = np.zeros(1024, dtype=np.int64)
        self.version = -1
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.cases)

    def upsert(self, table: pa.Table) -> None:
        """Add or refresh rows (arrow, with vectors)."""
        if table.num_rows == 0:
            return
        rows = table.drop_columns(["vector"]).to_pylist()
        vectors = vectors_of(table)
        with self.lock, self.index.lock:
            fresh = [i for i, row in enumerate(rows) if row["id"] not in self.slot_of]
            if fresh:
                slots = self.index.append(vectors[fresh])
                for i, slot in zip(fresh, slots):
                    self.slot_of[rows[i]["id"]] = int(slot)
                self.id_at.extend(rows[i]["id"] for i in fresh)
                size = self.index.size
                self.reward, self.trusted, self.task_keys = (
                    _grown(self.reward, size),
                    _grown(self.trusted, size),
                    _grown(self.task_keys, size),
                )
            for row in rows:
                slot = self.slot_of[row["id"]]
                case = case_from_row(row)
                self.cases[case.id] = case
                self.revs[case.id] = row["rev"]
                self.reward[slot] = case.reward
                self.trusted[slot] = case.trust == "trusted"
                self.task_keys[slot] = task_key(case.task)

    def remove(self, ids: Iterable[str]) -> None:
        with self.lock, self.index.lock:
            for case_id in ids:
                slot = self.slot_of.pop(case_id, None)
                if slot is None:
                    continue
                self.index.remove(np.array([slot]))
                self.id_at[slot] = None
                self.cases.pop(case_id, None)
                self.revs.pop(case_id, None)

    def sync(self, store: CaseStore) -> bool:
        """Bring in every commit since the last sync; True if anything changed."""
        version = store.version()
        if version == self.version:
            return False
        if not store.exists():
            return False
        keys = store.read_keys()
        stored = dict(zip(keys.column("id").to_pylist(), keys.column("rev").to_pylist()))
        with self.lock:
            changed = [case_id for case_id, rev in stored.items() if self.revs.get(case_id) != rev]
            removed = [case_id for case_id in self.revs if case_id not in stored]
        if len(changed) > max(1000, len(stored) // 10):  # first load or a big change: one scan
            table = store.read_all()
            rows = table.filter(pa.compute.is_in(table.column("id"), pa.array(changed)))
            self.upsert(rows)
        elif changed:
            self.upsert(store.read_ids(changed))
        self.remove(removed)
        self.version = version
        return bool(changed or removed)

    def mask(self, filters: CaseFilters) -> np.ndarray | None:
        """Bool per slot: which cases the filters allow (None: all alive ones)."""
        size = self.index.size
        mask = None if filters.include_quarantined else self.trusted[:size].copy()

        def narrowed(condition: np.ndarray) -> np.ndarray:
            return condition if mask is None else mask & condition

        if filters.min_reward is not None:
            mask = narrowed(self.reward[:size] >= filters.min_reward)
        if filters.exclude_task:
            mask = narrowed(self.task_keys[:size] != task_key(filters.exclude_task))
        if filters.tags or filters.source is not None:
            wanted = set(filters.tags)
            allowed = np.zeros(size, dtype=bool)
            for case_id, case in list(self.cases.items()):  # a snapshot: sync may run meanwhile
                if (not wanted or wanted.intersection(case.tags)) and (
                    filters.source is None or case.source == filters.source
                ):
                    slot = self.slot_of.get(case_id)
                    if slot is not None and slot < size:
                        allowed[slot] = True
            mask = narrowed(allowed)
        return mask

    def matches(self, case: Case, filters: CaseFilters) -> bool:
        """The same rule as `mask`, for one case (listings)."""
        return (
            (filters.include_quarantined or case.trust == "trusted")
            and (filters.min_reward is None or case.reward >= filters.min_reward)
            and (not filters.exclude_task or task_key(case.task) != task_key(filters.exclude_task))
            and (not filters.tags or bool(set(filters.tags).intersection(case.tags)))
            and (filters.source is None or case.source == filters.source)
        )

    def vector(self, case_id: str) -> np.ndarray | None:
        slot = self.slot_of.get(case_id)
        return None if slot is None else self.index.vectors[slot]

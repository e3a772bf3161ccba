"""An in-memory mirror of the cases table: the cases, their vectors, and masks for filtering.

Reads never touch LanceDB: retrieval, `get` and listings are served from here. Keeping up
with other processes' commits (diffing (id, rev) pairs, reading only new or changed rows) and
the vector index are memento_core's `RowMirror` and `VectorIndex`, shared with search; this
layer adds what the bank filters on: `Case` objects and per-slot reward, trust and task keys.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from memento_core.mirror import RowMirror
from memento_core.vector_index import VectorIndex
from memento_memory.models import Case, CaseFilters


def task_key(text: str) -> int:
    """A 63-bit hash of a task text with case, whitespace and end punctuation ignored (the same question)."""
    normal = " ".join(text.lower().split()).strip(" .?!:;,\"'").encode()
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


class Mirror(RowMirror):
    """The bank's cases (`cases`, by id) on the core row mirror, with per-slot filter columns."""

    def __init__(self, index: VectorIndex):
        super().__init__(index)
        self.cases: dict[str, Case] = self.rows
        self.reward = np.zeros(1024, dtype=np.float32)
        self.trusted = np.zeros(1024, dtype=bool)
        self.task_keys = np.zeros(1024, dtype=np.int64)

    def keep(self, slots: list[int], rows: list[dict]) -> list[Case]:
        """Parse the rows into cases and fill their slots' filter columns."""
        size = self.index.size
        self.reward, self.trusted, self.task_keys = (
            _grown(self.reward, size),
            _grown(self.trusted, size),
            _grown(self.task_keys, size),
        )
        cases = [case_from_row(row) for row in rows]
        for slot, case in zip(slots, cases):
            self.reward[slot] = case.reward
            self.trusted[slot] = case.trust == "trusted"
            self.task_keys[slot] = task_key(case.task)
        return cases

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
        if filters.tags or filters.exclude_tags or filters.source is not None:
            allowed = np.zeros(size, dtype=bool)
            for case_id, case in list(self.cases.items()):  # a snapshot: sync may run meanwhile
                if self._tags_and_source_match(case, filters):
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
            and self._tags_and_source_match(case, filters)
        )

    @staticmethod
    def _tags_and_source_match(case: Case, filters: CaseFilters) -> bool:
        return (
            (not filters.tags or bool(set(filters.tags).intersection(case.tags)))
            and not set(filters.exclude_tags).intersection(case.tags)
            and (filters.source is None or case.source == filters.source)
        )

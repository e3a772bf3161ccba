"""An incremental in-memory mirror of a LanceDB table: rows by key, their vectors in a `VectorIndex`.

Rows are keyed by a key column and versioned by a rev column that changes whenever the row
does. `sync` runs when the table's version moves: it reads only (key, rev) pairs, then only
the new or changed rows, so stored vectors are read once and never re-embedded. The owner's
own writes go in directly with `upsert` and `remove`. lancedb is never imported: the table
is reached through the owner's `MirroredTable` reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)

from memento_core.vector_index import VectorIndex
from memento_core.vectors import vectors_of


class MirroredTable(Protocol):
    """The reads `RowMirror.sync` needs of a table (its owner's store implements them)."""

    def version(self) -> int: ...

    def read_keys(self) -> pa.Table:
        """The key and rev columns of every row."""

    def read_ids(self, keys: Sequence[str]) -> pa.Table:
        """The rows with these keys, with vectors."""

    def read_all(self) -> pa.Table:
        """Every row, with vectors."""


class RowMirror:
    """Rows by key and by slot of `index`; `rows` holds what `keep` makes of each."""

    def __init__(self, index: VectorIndex, key: str = "id", rev: str = "rev"):
        self.index = index
        self.key = key
        self.rev = rev
        self.rows: dict[str, Any] = {}
        self.revs: dict[str, str] = {}
        self.slot_of: dict[str, int] = {}
        self.id_at: list[str | None] = []
        self.version = -1
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.rows)

    def keep(self, slots: list[int], rows: list[dict]) -> list[Any]:
        """What to hold of rows just placed in `slots` (a subclass may also fill per-slot arrays)."""
        return rows

    def upsert(self, table: pa.Table) -> None:
        """Add or refresh rows (arrow, with vectors); a row whose vector changed moves to a new slot."""
        if table.num_rows == 0:
            return
        rows = table.drop_columns(["vector"]).to_pylist()
        vectors = vectors_of(table)
        with self.lock, self.index.lock:
            known = [i for i, row in enumerate(rows) if row[self.key] in self.slot_of]
            if known:
                slots = np.array([self.slot_of[rows[i][self.key]] for i in known])
                moved = slots[np.any(self.index.vectors[slots] != vectors[known], axis=1)]
                self._free(moved)
            fresh = list({row[self.key]: i for i, row in enumerate(rows) if row[self.key] not in self.slot_of}.values())
            if fresh:
                for i, slot in zip(fresh, self.index.append(vectors[fresh])):
                    self.slot_of[rows[i][self.key]] = int(slot)
                self.id_at.extend(rows[i][self.key] for i in fresh)
            slots = [self.slot_of[row[self.key]] for row in rows]
            for row, value in zip(rows, self.keep(slots, rows)):
                self.rows[row[self.key]] = value
                self.revs[row[self.key]] = row[self.rev]

    def _free(self, slots: np.ndarray) -> None:
        self.index.remove(slots)
        for slot in slots:
            del self.slot_of[self.id_at[slot]]
            self.id_at[slot] = None

    def remove(self, keys: Iterable[str]) -> None:
        with self.lock, self.index.lock:
            for key in keys:
                slot = self.slot_of.get(key)
                if slot is None:
                    continue
                self._free(np.array([slot]))
                self.rows.pop(key, None)
                self.revs.pop(key, None)

    def sync(self, table: MirroredTable) -> bool:
        """Bring in every commit since the last sync; True if anything changed."""
        version = table.version()
        if version == self.version:
            return False
        keys = table.read_keys()
        stored = dict(zip(keys.column(self.key).to_pylist(), keys.column(self.rev).to_pylist()))
        with self.lock:
            changed = [key for key, rev in stored.items() if self.revs.get(key) != rev]
            removed = [key for key in self.revs if key not in stored]
        if len(changed) > max(1000, len(stored) // 10):  # first load or a big change: one scan
            everything = table.read_all()
            self.upsert(everything.filter(pa.compute.is_in(everything.column(self.key), pa.array(changed))))
        elif changed:
            self.upsert(table.read_ids(changed))
        self.remove(removed)
        self.version = version
        return bool(changed or removed)

    def search(
        self, query: np.ndarray, k: int, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The best `k` rows passing `mask` (bool per slot): their slots, similarities and keys."""
        slots, sims = self.index.search(query, k, mask)
        keys = [self.id_at[slot] for slot in slots]
        live = [i for i, key in enumerate(keys) if key is not None and key in self.rows]
        return slots[live], sims[live], [keys[i] for i in live]

    def vector(self, key: str) -> np.ndarray | None:
        slot = self.slot_of.get(key)
        return None if slot is None else self.index.vectors[slot]

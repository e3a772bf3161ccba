"""Vectors of a LanceDB table held in memory, searched exactly: shared by search and memory.

A corpus or case bank of up to a few hundred thousand rows fits in memory (a few MB per 10k
384-d vectors), and a flat dot-product scan in numpy takes well under a millisecond, while a
LanceDB vector query (scan, then materialising the rows) took ~10 ms on the HotpotQA corpus.
A `TableMirror` rebuilds its copy whenever the table's version moves (another writer
committed). numpy and pyarrow come with the search and memory extras; lancedb is never imported.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

MAX_MIRRORED_ROWS = 500_000


def vectors_of(table: Any, column: str = "vector") -> np.ndarray:
    """An arrow table's fixed-size-list vector column as one float32 matrix, a row per row."""
    array = table.column(column).combine_chunks()
    return array.values.to_numpy(zero_copy_only=False).reshape(-1, array.type.list_size).astype(np.float32, copy=False)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (ties in index order)."""
    if len(scores) > k:
        part = np.argpartition(-scores, k)[:k]
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")


class VectorMirror:
    """One version of a table: its unit vectors as a matrix plus some row columns, searched by dot product."""

    def __init__(self, table: Any, columns: list[str], version: int):
        self.version = version
        self.matrix = vectors_of(table)
        self.columns = {name: table.column(name).to_pylist() for name in columns}

    def search(self, vector: Any, limit: int) -> list[dict[str, Any]]:
        """The `limit` nearest rows, best first, with LanceDB's dot `_distance` (1 - similarity)."""
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        return [
            {**{name: values[i] for name, values in self.columns.items()}, "_distance": 1.0 - float(scores[i])}
            for i in top_k(scores, limit)
        ]


class TableMirror:
    """An up-to-date `VectorMirror` of a LanceDB table, or None when the table is too large to mirror."""

    def __init__(self, columns: list[str]):
        self.columns = columns
        self._mirror: VectorMirror | None = None
        self._lock = threading.Lock()

    def get(self, table: Any) -> VectorMirror | None:
        version = table.version
        with self._lock:
            if self._mirror is None or self._mirror.version != version:
                if table.count_rows() > MAX_MIRRORED_ROWS:
                    return None
                self._mirror = VectorMirror(table.to_arrow(), self.columns, version)
            return self._mirror

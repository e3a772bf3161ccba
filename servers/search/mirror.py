"""The corpus's vectors and rows held in memory for the vector half of hybrid search.

A local corpus is small enough (a few MB of vectors per 10k chunks) that a flat dot-product
scan in numpy takes well under a millisecond, while a LanceDB vector query (scan, then
materialising the rows) took ~10 ms on the HotpotQA corpus: that difference is most of a
query's latency after the embedding itself. The mirror is rebuilt when the table's version
changes (re-indexing), and larger corpora fall back to LanceDB.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

MAX_MIRRORED_ROWS = 500_000


class VectorMirror:
    """Unit vectors as one matrix plus the row columns, searched by dot product."""

    def __init__(self, table: Any, columns: list[str], version: int):
        self.version = version
        vectors = table.column("vector").combine_chunks()
        self.matrix = np.asarray(vectors.flatten(), dtype=np.float32).reshape(len(vectors), -1)
        self.columns = {name: table.column(name).to_pylist() for name in columns}

    def search(self, vector: Any, limit: int) -> list[dict[str, Any]]:
        """The `limit` nearest rows, best first, with LanceDB's dot `_distance` (1 - similarity)."""
        if not len(self.matrix):
            return []
        scores = self.matrix @ np.asarray(vector, dtype=np.float32)
        k = min(limit, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            {**{name: values[i] for name, values in self.columns.items()}, "_distance": 1.0 - float(scores[i])}
            for i in top
        ]


class MirrorCache:
    """One up-to-date mirror of a LanceDB table, or None when the table is too large to mirror."""

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

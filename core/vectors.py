"""Vectors out of arrow, and the exact top-k: the numpy basics of the in-memory mirrors.

A corpus or case bank of up to a few hundred thousand rows fits in memory (a few MB per 10k
384-d vectors), and a flat dot-product scan in numpy takes well under a millisecond, while a
LanceDB vector query (scan, then materialising the rows) took ~10 ms on the HotpotQA corpus;
hence `mirror.RowMirror` and `vector_index.VectorIndex`. numpy and pyarrow come with the
search and memory extras.
"""

from __future__ import annotations

from typing import Any

import numpy as np


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

"""memento_core.vectors: arrow vectors to numpy, exact top-k, and a mirror that follows the table's version."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from memento_core.vectors import TableMirror, top_k, vectors_of


class FakeTable:
    """What TableMirror reads of a LanceDB table: version, count_rows, to_arrow."""

    def __init__(self, vectors: list[list[float]], version: int):
        self.version = version
        self.arrow = pa.table({
            "id": [f"r{i}" for i in range(len(vectors))],
            "vector": pa.array(vectors, type=pa.list_(pa.float32(), 2)),
        })

    def count_rows(self) -> int:
        return self.arrow.num_rows

    def to_arrow(self) -> pa.Table:
        return self.arrow


def test_vectors_of_and_top_k():
    table = FakeTable([[1, 0], [0, 1], [0.6, 0.8]], 1).arrow
    matrix = vectors_of(table)
    assert matrix.dtype == np.float32 and matrix.shape == (3, 2)
    assert top_k(matrix @ np.array([0, 1], dtype=np.float32), 2).tolist() == [1, 2]
    assert top_k(np.array([0.5, 0.5, 0.9]), 5).tolist() == [2, 0, 1]


def test_the_mirror_answers_like_lancedb_and_follows_new_versions():
    mirror = TableMirror(["id"])
    first = FakeTable([[1, 0], [0, 1]], 1)
    [best] = mirror.get(first).search([1, 0], 1)
    assert best["id"] == "r0" and abs(best["_distance"]) < 1e-6
    assert mirror.get(first) is mirror.get(first)  # same version: no reload
    second = FakeTable([[0, 1], [1, 0], [0.6, 0.8]], 2)
    assert [row["id"] for row in mirror.get(second).search([1, 0], 3)] == ["r1", "r2", "r0"]
    assert mirror.get(FakeTable([], 3)).search([1, 0], 3) == []

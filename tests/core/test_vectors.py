"""memento_core.vectors and .mirror: arrow vectors to numpy, exact top-k, and the incremental row mirror."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from memento_core.mirror import RowMirror
from memento_core.vector_index import VectorIndex
from memento_core.vectors import top_k, vectors_of


def test_vectors_of_and_top_k():
    table = pa.table({"vector": pa.array([[1, 0], [0, 1], [0.6, 0.8]], type=pa.list_(pa.float32(), 2))})
    matrix = vectors_of(table)
    assert matrix.dtype == np.float32 and matrix.shape == (3, 2)
    assert top_k(matrix @ np.array([0, 1], dtype=np.float32), 2).tolist() == [1, 2]
    assert top_k(np.array([0.5, 0.5, 0.9]), 5).tolist() == [2, 0, 1]


class CountingTable:
    """A real LanceDB table behind the `MirroredTable` reads, counting the full rows each read returns."""

    def __init__(self, path):
        import lancedb

        schema = pa.schema([("id", pa.string()), ("rev", pa.string()), ("vector", pa.list_(pa.float32(), 2))])
        self.table = lancedb.connect(str(path)).create_table("rows", schema=schema)
        self.rows_read = 0

    def version(self) -> int:
        return self.table.version

    def read_keys(self) -> pa.Table:
        return self.table.search().select(["id", "rev"]).limit(None).to_arrow()

    def read_ids(self, keys) -> pa.Table:
        listed = ", ".join(f"'{key}'" for key in keys)
        return self._counted(self.table.search().where(f"id IN ({listed})").limit(None).to_arrow())

    def read_all(self) -> pa.Table:
        return self._counted(self.table.to_arrow())

    def _counted(self, rows: pa.Table) -> pa.Table:
        self.rows_read += rows.num_rows
        return rows


def test_the_row_mirror_reads_only_new_and_changed_rows_and_searches_with_a_mask(tmp_path):
    table = CountingTable(tmp_path)
    table.table.add([{"id": f"r{i}", "rev": "1", "vector": [1.0, 0.0] if i == 0 else [0.0, 1.0]} for i in range(5)])
    mirror = RowMirror(VectorIndex(dim=2, ann_threshold=1000, nprobe=4))
    assert mirror.sync(table) and len(mirror) == 5 and table.rows_read == 5
    assert not mirror.sync(table)  # same version: nothing read

    table.table.add([{"id": "new", "rev": "1", "vector": [0.6, 0.8]}])
    table.table.merge_insert("id").when_matched_update_all().execute(
        pa.table({"id": ["r1"], "rev": ["2"], "vector": pa.array([[0.8, 0.6]], type=pa.list_(pa.float32(), 2))})
    )
    table.table.delete("id = 'r2'")
    table.rows_read = 0
    assert mirror.sync(table)
    assert table.rows_read == 2  # "new" and "r1": the three unchanged rows were not read again
    assert sorted(mirror.rows) == ["new", "r0", "r1", "r3", "r4"] and mirror.revs["r1"] == "2"
    assert mirror.vector("r1").tolist() == pytest.approx([0.8, 0.6]) and mirror.vector("r2") is None

    query = np.array([1.0, 0.0], dtype=np.float32)
    _, sims, keys = mirror.search(query, 3)
    assert keys == ["r0", "r1", "new"] and sims[0] == pytest.approx(1.0)
    mask = np.ones(mirror.index.size, dtype=bool)
    mask[[mirror.slot_of["r0"], mirror.slot_of["r1"]]] = False
    slots, _, keys = mirror.search(query, 2, mask)
    assert keys == ["new", "r3"] and [mirror.id_at[slot] for slot in slots] == keys

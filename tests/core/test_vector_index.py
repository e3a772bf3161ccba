"""The in-memory vector index: exact search, IVF recall, masks."""

from __future__ import annotations

import numpy as np

from memento_core.vector_index import VectorIndex
from memento_core.vectors import top_k


def unit_rows(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def clustered_rows(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Points around 60 topics, like embeddings of texts on a few subjects."""
    rng = np.random.default_rng(seed)
    centres = unit_rows(60, dim, seed + 100)
    rows = centres[rng.integers(0, 60, n)] + 0.06 * rng.standard_normal((n, dim)).astype(np.float32)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_returns_best_slots_in_order():
    index = VectorIndex(dim=32, ann_threshold=10_000, nprobe=4)
    vectors = unit_rows(500)
    index.append(vectors)
    slots, scores = index.search(vectors[7], 3)
    assert slots[0] == 7 and np.isclose(scores[0], 1.0)
    assert list(slots) == list(top_k(vectors @ vectors[7], 3))


def test_removed_and_masked_slots_are_never_returned():
    index = VectorIndex(dim=32, ann_threshold=10_000, nprobe=4)
    vectors = unit_rows(100)
    index.append(vectors)
    index.remove(np.array([7]))
    mask = np.ones(100, dtype=bool)
    mask[:50] = False
    slots, _ = index.search(vectors[7], 10, mask)
    assert 7 not in slots and all(slot >= 50 for slot in slots)


def test_rows_added_after_the_mask_was_computed_are_left_out_not_an_error():
    index = VectorIndex(dim=32, ann_threshold=10_000, nprobe=4)
    vectors = unit_rows(20)
    index.append(vectors[:18])
    mask = np.ones(18, dtype=bool)  # a filter computed before a concurrent write added two rows
    index.append(vectors[18:])
    slots, _ = index.search(vectors[19], 20, mask)
    assert sorted(slots) == list(range(18))


def test_ivf_recall_matches_exact_search_and_covers_rows_added_after_the_build():
    vectors = clustered_rows(6000, seed=1)
    index = VectorIndex(dim=32, ann_threshold=1000, nprobe=16)
    index.append(vectors[:5000])
    assert index.needs_rebuild()
    index.rebuild()
    assert index.describe().startswith("ivf")
    index.append(vectors[5000:])  # not in the snapshot: scanned exactly
    queries = clustered_rows(50, seed=2)
    hits = 0
    for query in queries:
        exact = set(top_k(vectors @ query, 4))
        found, _ = index.search(query, 4)
        hits += len(exact & set(found))
    assert hits / (4 * len(queries)) >= 0.9
    slots, _ = index.search(vectors[5500], 1)
    assert slots[0] == 5500


def test_search_on_a_filter_matching_few_rows_falls_back_to_exact():
    vectors = unit_rows(3000, dim=32, seed=3)
    index = VectorIndex(dim=32, ann_threshold=1000, nprobe=1)
    index.append(vectors)
    index.rebuild()
    mask = np.zeros(3000, dtype=bool)
    mask[[10, 20, 30]] = True
    slots, _ = index.search(vectors[0], 3, mask)
    assert sorted(slots) == [10, 20, 30]

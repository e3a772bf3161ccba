"""Fusion of rankings: RRF by rank, min-max by normalised score (small hand-checked fixtures)."""

from __future__ import annotations

import pytest

from memento_servers.search.fusion import minmax, rrf


def test_rrf_sums_weighted_reciprocal_ranks_within_depth():
    fused = dict(rrf([["a", "b", "c"], ["b", "d"]], [1.0, 2.0], k=10, depth=2))
    assert fused == pytest.approx({"a": 1 / 11, "b": 1 / 12 + 2 / 11, "d": 2 / 12})  # "c" lies past depth 2


def test_minmax_keeps_the_gap_a_confident_ranking_shows():
    # BM25 is sure of "x" (far above the rest); the vectors are lukewarm about everything.
    text = {"x": 9.0, "y": 2.1, "z": 2.0, "w": 1.9}
    vectors = {"y": 0.52, "z": 0.515, "x": 0.51, "w": 0.50}
    by_score = [item for item, _ in minmax([text, vectors], [1.0, 1.0])]
    by_rank = [item for item, _ in rrf([list(text), list(vectors)], [1.0, 1.0], k=60, depth=3)]
    assert by_score[0] == "x"
    assert by_rank[0] == "y"  # ranks alone lose the gap: y is 2nd and 1st, x 1st and 3rd


def test_minmax_normalises_each_list_and_applies_weights():
    fused = dict(minmax([{"a": 10.0, "b": 5.0, "c": 0.0}, {"b": 0.9, "d": 0.7}], [2.0, 1.0]))
    assert fused == pytest.approx({"a": 2.0, "b": 1.0 + 1.0, "c": 0.0, "d": 0.0})


def test_minmax_flat_and_empty_lists():
    assert dict(minmax([{"a": 3.0, "b": 3.0}, {}], [1.0, 1.0])) == {"a": 1.0, "b": 1.0}
    assert minmax([{}, {}], [1.0, 1.0]) == []
    with pytest.raises(ValueError):
        minmax([{"a": 1.0}], [1.0, 2.0])

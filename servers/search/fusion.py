"""Reciprocal rank fusion of several rankings of the same items."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def rrf(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float], k: int, depth: int) -> list[tuple[Hashable, float]]:
    """Items ordered by sum(weight / (k + rank)) over the first `depth` of each ranking (rank from 1)."""
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking[:depth], start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])

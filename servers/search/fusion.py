"""Fusion of several rankings of the same items: by rank (RRF) or by normalised score (min-max)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def rrf(rankings: Sequence[Sequence[Hashable]], weights: Sequence[float], k: int, depth: int) -> list[tuple[Hashable, float]]:
    """Items ordered by sum(weight / (k + rank)) over the first `depth` of each ranking (rank from 1)."""
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking[:depth], start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


def minmax(scored: Sequence[Mapping[Hashable, float]], weights: Sequence[float]) -> list[tuple[Hashable, float]]:
    """Items ordered by sum(weight * (score - min) / (max - min)) over each list's own candidates.

    Unlike RRF this keeps how far apart the scores are: a ranking whose best hit stands far above the
    rest pulls that hit up, a flat one weighs little. An item missing from a list scores 0 there; a list
    whose candidates all score the same gives each of them 1.
    """
    fused: dict[Hashable, float] = {}
    for scores, weight in zip(scored, weights, strict=True):
        if not scores:
            continue
        low, high = min(scores.values()), max(scores.values())
        span = high - low
        for item, score in scores.items():
            fused[item] = fused.get(item, 0.0) + weight * ((score - low) / span if span > 0 else 1.0)
    return sorted(fused.items(), key=lambda pair: -pair[1])

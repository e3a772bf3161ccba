"""Pseudo-relevance feedback (RM3): a weighted query grown from the terms of the best hits.

    weights = rm3(query_terms, [(terms_of_hit, score_of_hit), ...], expansion_terms=20, query_weight=0.5)

Each hit lends its terms in proportion to its share of the hits' scores and to each term's share of
the hit's length (the relevance model); the `expansion_terms` heaviest terms are kept, and the result
mixes the original query (`query_weight`) with them (1 - `query_weight`). Both halves sum to 1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def rm3(
    query_terms: Sequence[str], hits: Sequence[tuple[Sequence[str], float]], expansion_terms: int, query_weight: float
) -> dict[str, float]:
    """Term -> weight of the expanded query (only the original terms when there is no usable hit)."""
    query = Counter(query_terms)
    weights = {term: query_weight * count / sum(query.values()) for term, count in query.items()} if query else {}
    total = sum(max(score, 0.0) for terms, score in hits if terms)
    if total <= 0:
        return {term: count / sum(query.values()) for term, count in query.items()}
    model: Counter[str] = Counter()
    for terms, score in hits:
        if terms and score > 0:
            for term, count in Counter(terms).items():
                model[term] += (score / total) * count / len(terms)
    kept = model.most_common(expansion_terms)
    mass = sum(weight for _, weight in kept)
    share = (1.0 - query_weight) if query else 1.0
    for term, weight in kept:
        weights[term] = weights.get(term, 0.0) + share * weight / mass
    return weights

"""Okapi BM25 over a small, in-memory set of passages (a document's chunks, a page's blocks).

The documents server ranks a document's passages with it; the crawl server compresses a
page to the blocks that match a query. Callers tokenise: the ranking only counts terms.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

K1, B = 1.2, 0.75


class BM25:
    """Term statistics of the passages, computed once; `scores(query_terms)` ranks them."""

    def __init__(self, passages: Iterable[Iterable[str]]):
        self.counts = [Counter(terms) for terms in passages]
        self.lengths = [sum(counts.values()) for counts in self.counts]
        self.average = (sum(self.lengths) / len(self.lengths)) if self.lengths else 1.0
        self.frequency = Counter(term for counts in self.counts for term in counts)

    def scores(self, query: Iterable[str]) -> list[float]:
        total = len(self.counts)
        weights = {
            term: math.log(1 + (total - self.frequency[term] + 0.5) / (self.frequency[term] + 0.5))
            for term in set(query)
            if self.frequency[term]
        }
        scores = []
        for counts, length in zip(self.counts, self.lengths, strict=True):
            norm = K1 * (1 - B + B * length / (self.average or 1.0))
            scores.append(sum(w * counts[t] * (K1 + 1) / (counts[t] + norm) for t, w in weights.items() if t in counts))
        return scores

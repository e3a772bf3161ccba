"""An in-memory BM25 index (bm25s, Lucene scoring) that scores weighted queries.

    index = LexicalIndex(ids, texts)
    index.top(index.weights_of("coral reefs bleaching"), 20)   # [(id, score), ...] best first

Analysis is English: lower case, words of two or more letters, bm25s's English stop words, Snowball
stemming (PyStemmer). k1 0.9 and b 0.9 (LanceDB's are 1.2 and 0.75) were chosen with the benchmarks'
tune halves (`benchmarks.search`); it ranks at least as well as LanceDB's FTS index in a tenth of the
time, and it takes per-term weights, which pseudo-relevance feedback needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"(?u)\b\w\w+\b")
K1, B = 0.9, 0.9


class Analyzer:
    """Text -> index terms (lower-cased, stop words dropped, Snowball-stemmed)."""

    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        self.stemmer = Stemmer.Stemmer("english")
        self.stopwords = frozenset(STOPWORDS_EN)

    def __call__(self, text: str) -> list[str]:
        return self.stemmer.stemWords([word for word in WORD.findall(text.lower()) if word not in self.stopwords])


class LexicalIndex:
    """BM25 over a fixed list of texts; rebuild it when they change."""

    def __init__(self, ids: Sequence[str], texts: Sequence[str], analyzer: Analyzer | None = None):
        import bm25s

        self.analyze = analyzer or Analyzer()
        self.ids = list(ids)
        self.bm25 = bm25s.BM25(k1=K1, b=B)
        self.bm25.index([self.analyze(text) or [""] for text in texts], show_progress=False)

    def weights_of(self, text: str) -> dict[str, float]:
        """A plain query as term weights (a repeated word counts more)."""
        return dict(Counter(self.analyze(text)))

    def top(self, weights: dict[str, float], k: int) -> list[tuple[str, float]]:
        """The `k` best texts for a weighted query (sum of weight x BM25 of each term), score > 0 only."""
        known = {term: weight for term, weight in weights.items() if term in self.bm25.vocab_dict}
        if not known or not self.ids:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for term, weight in known.items():
            scores += weight * self.bm25.get_scores([term])
        best = np.argpartition(-scores, min(k, len(scores) - 1))[:k] if len(scores) > k else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in best if scores[i] > 0]

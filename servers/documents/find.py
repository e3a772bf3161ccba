"""Finding passages in a document: BM25 over page-aware chunks, exact phrases first, optional embeddings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memento_core.text.bm25 import BM25
from memento_core.text.chunks import chunk_spans
from memento_servers.documents.model import Document

TOKEN = re.compile(r"\w+", re.UNICODE)
CHUNK_CHARS = 800


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int
    page: int | None
    text: str


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def chunks(document: Document) -> list[Chunk]:
    """A document's passages: up to CHUNK_CHARS each, cut at natural boundaries, never across pages."""
    sections = [(s.start, s.end, s.page) for s in document.pages] or [(0, len(document.markdown), None)]
    return [
        Chunk(offset + a, offset + b, page, document.markdown[offset + a : offset + b])
        for offset, end, page in sections
        for a, b in chunk_spans(document.markdown[offset:end], CHUNK_CHARS)
    ]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float
    exact: bool


class PassageIndex:
    """One document's passages with their term counts: built once, searched many times."""

    def __init__(self, document: Document):
        self.passages = chunks(document)
        self.ranker = BM25(tokens(p.text) for p in self.passages)
        self.flat = [" ".join(p.text.lower().split()) for p in self.passages]

    def bm25(self, query: str) -> list[float]:
        return self.ranker.scores(tokens(query))

    def search(self, query: str, max_results: int, semantic_scores: list[float] | None = None) -> list[Hit]:
        """Passages best matching `query`: exact (case-insensitive) phrase matches first, then by score."""
        scores = self.bm25(query)
        if semantic_scores is not None:
            scores = _fuse(scores, semantic_scores)
        needle = " ".join(query.lower().split())
        hits = [
            Hit(chunk, score, needle in flat)
            for chunk, score, flat in zip(self.passages, scores, self.flat, strict=True)
        ]
        hits = [h for h in hits if h.exact or h.score > 0]
        hits.sort(key=lambda h: (h.exact, h.score), reverse=True)
        return hits[:max_results]


def _fuse(lexical: list[float], semantic: list[float], k: int = 60) -> list[float]:
    """Reciprocal-rank fusion of two score lists."""
    fused = [0.0] * len(lexical)
    for scores in (lexical, semantic):
        order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
        for rank_, index in enumerate(order):
            if scores is semantic or scores[index] > 0:
                fused[index] += 1.0 / (k + rank_ + 1)
    return fused

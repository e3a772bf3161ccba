"""Text embedders the bank can use, and an LRU cache for repeated query texts.

The default is the core `Embedder` search uses too (MiniLM, offline, lazy, on the configured
backend: bulk writes on every core, queries on one thread).
`feature-hash` is a real but simple embedder: hashed word unigrams and bigrams, signed,
L2-normalised. It needs no torch and starts instantly; similarity is lexical only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Protocol

import numpy as np

from memento_core.embeddings import DEFAULT_BACKEND, Embedder
from memento_core.lru import LRU

FEATURE_HASH = "feature-hash"
FEATURE_HASH_DIM = 384
_WORD = re.compile(r"\w+")


class TextEmbedder(Protocol):
    model_name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class FeatureHashEmbedder:
    """Deterministic bag-of-words embeddings (unigrams + bigrams hashed into `dim` signed buckets)."""

    model_name = FEATURE_HASH

    def __init__(self, dim: int = FEATURE_HASH_DIM):
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _row(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        row = np.zeros(self._dim, dtype=np.float32)
        for feature in [*words, *(a + " " + b for a, b in zip(words, words[1:]))]:
            digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
            row[digest % self._dim] += 1.0 if digest >> 63 else -1.0
        norm = float(np.linalg.norm(row))
        return row / norm if norm else row

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([self._row(text) for text in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._row(text)


def make_embedder(
    model: str, backend: str = DEFAULT_BACKEND, query_backend: str | None = None, threads: int = 0, device: str = "cpu"
) -> TextEmbedder:
    """The embedder named by `model` (loaded lazily): bulk on `backend` with `threads` (0: every core),
    queries on `query_backend`; the bank's `QueryCache` caches queries, so the embedder does not."""
    if model == FEATURE_HASH:
        return FeatureHashEmbedder()
    return Embedder(model, backend, query_backend, threads=threads, query_cache=0, device=device)


class QueryCache:
    """Embeds single query texts through an LRU cache, so a repeated task costs no model call."""

    def __init__(self, embed: Callable[[str], np.ndarray], size: int):
        self.embed = embed
        self.cache: LRU[str, np.ndarray] = LRU(size)

    def embed_one(self, text: str) -> np.ndarray:
        vector = self.cache.get(text)
        if vector is None:
            vector = self.embed(text)
            self.cache.put(text, vector)
        return vector

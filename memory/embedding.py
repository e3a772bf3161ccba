"""Text embedders the bank can use, and an LRU cache for repeated query texts.

The default is the shared sentence-transformers `Embedder` (MiniLM, offline, lazy).
`feature-hash` is a real but simple embedder: hashed word unigrams and bigrams, signed,
L2-normalised. It needs no torch and starts instantly; similarity is lexical only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Protocol

import numpy as np

from memento_core.embeddings import Embedder
from memento_core.lru import LRU

FEATURE_HASH = "feature-hash"
FEATURE_HASH_DIM = 384
_WORD = re.compile(r"\w+")


class TextEmbedder(Protocol):
    model_name: str

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


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


def make_embedder(model: str, device: str = "cpu", threads: int | None = 1) -> TextEmbedder:
    """The embedder named by `model` (loaded lazily), torch held to `threads`."""
    if model == FEATURE_HASH:
        return FeatureHashEmbedder()
    return Embedder(model, device=device, threads=threads)


class QueryCache:
    """Embeds single query texts through an LRU cache, so a repeated task costs no model call."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], size: int):
        self.embed = embed
        self.cache: LRU[str, np.ndarray] = LRU(size)

    def embed_one(self, text: str) -> np.ndarray:
        vector = self.cache.get(text)
        if vector is None:
            vector = self.embed([text])[0]
            self.cache.put(text, vector)
        return vector

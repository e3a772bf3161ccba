"""In-memory vector search over stored embeddings: exact, or IVF past a size threshold.

Rows live in slots (a growable float32 matrix). Exact search is one matrix-vector product.
The IVF index clusters a snapshot of the rows with k-means (spherical, on a sample), keeps a
copy of the vectors sorted by cluster, and scans only the `nprobe` clusters nearest to the
query; rows added after the snapshot are scanned exactly until the next rebuild.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from memento_core.vectors import top_k

log = logging.getLogger(__name__)
KMEANS_SAMPLE = 25_000
KMEANS_ITERATIONS = 8


@dataclass(frozen=True)
class IvfIndex:
    centroids: np.ndarray  # (lists, dim)
    offsets: np.ndarray  # (lists + 1,) start of each list in `sorted_vectors`
    sorted_vectors: np.ndarray  # the snapshot's vectors grouped by list
    sorted_slots: np.ndarray  # slot of each row of `sorted_vectors`
    covered: int  # slots below this were indexed

    @property
    def lists(self) -> int:
        return len(self.centroids)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def build_ivf(vectors: np.ndarray, slots: np.ndarray, seed: int = 0) -> IvfIndex:
    """Cluster `vectors` (rows of `slots`) into about 2*sqrt(n) lists."""
    rng = np.random.default_rng(seed)
    n = len(vectors)
    lists = max(1, int(2 * np.sqrt(n)))
    sample = vectors[rng.choice(n, size=min(n, KMEANS_SAMPLE), replace=False)]
    centroids = sample[rng.choice(len(sample), size=lists, replace=False)].copy()
    for _ in range(KMEANS_ITERATIONS):
        nearest = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, sample)
        empty = np.bincount(nearest, minlength=lists) == 0
        sums[empty] = centroids[empty]
        centroids = _normalise(sums)
    assignment = np.empty(n, dtype=np.int64)
    for start in range(0, n, 8192):
        assignment[start : start + 8192] = np.argmax(vectors[start : start + 8192] @ centroids.T, axis=1)
    order = np.argsort(assignment, kind="stable")
    offsets = np.searchsorted(assignment[order], np.arange(lists + 1))
    covered = int(slots.max()) + 1 if n else 0
    return IvfIndex(centroids, offsets, np.ascontiguousarray(vectors[order]), slots[order], covered)


class VectorIndex:
    """Slots of unit vectors with an alive mask; `search` returns the best slots for a query."""

    def __init__(self, dim: int, ann_threshold: int, nprobe: int):
        self.dim = dim
        self.ann_threshold = ann_threshold
        self.nprobe = nprobe
        self.vectors = np.zeros((1024, dim), dtype=np.float32)
        self.alive = np.zeros(1024, dtype=bool)
        self.size = 0  # slots used (alive or not)
        self.ivf: IvfIndex | None = None
        self.lock = threading.RLock()
        self._build_lock = threading.Lock()

    @property
    def count(self) -> int:
        return int(self.alive[: self.size].sum())

    def describe(self) -> str:
        ivf = self.ivf
        return f"ivf ({ivf.lists} lists, nprobe {self.nprobe})" if ivf else "exact"

    def append(self, vectors: np.ndarray) -> np.ndarray:
        """Store rows; returns their slots."""
        with self.lock:
            needed = self.size + len(vectors)
            if needed > len(self.vectors):
                capacity = max(needed, 2 * len(self.vectors))
                grown = np.zeros((capacity, self.dim), dtype=np.float32)
                grown[: self.size] = self.vectors[: self.size]
                alive = np.zeros(capacity, dtype=bool)
                alive[: self.size] = self.alive[: self.size]
                self.vectors, self.alive = grown, alive
            slots = np.arange(self.size, needed)
            self.vectors[slots] = vectors
            self.alive[slots] = True
            self.size = needed
            return slots

    def remove(self, slots: np.ndarray) -> None:
        with self.lock:
            self.alive[slots] = False

    def needs_rebuild(self) -> bool:
        """Past the threshold with no index, or a quarter of the rows added since the last build."""
        count = self.count
        if count < max(self.ann_threshold, 1):
            return False
        return self.ivf is None or (self.size - self.ivf.covered) > 0.25 * self.ivf.covered

    def rebuild(self) -> None:
        """Build a fresh IVF index over the current rows (one build at a time; safe in a background thread)."""
        with self._build_lock:
            if not self.needs_rebuild():
                return
            with self.lock:
                slots = np.flatnonzero(self.alive[: self.size])
                vectors = self.vectors[slots].copy()
            ivf = build_ivf(vectors, slots)
            with self.lock:
                self.ivf = ivf
            log.info("built IVF index: %d rows, %d lists", len(slots), ivf.lists)

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The best `k` alive slots passing `mask` (bool per slot), with their cosine similarities.

        Slots past the end of `mask` (rows added after it was computed) are left out."""
        with self.lock:
            size, ivf = self.size, self.ivf
            if mask is not None and len(mask) < size:
                mask = np.concatenate([mask, np.zeros(size - len(mask), dtype=bool)])
            allowed = self.alive[:size] if mask is None else self.alive[:size] & mask[:size]
            if ivf is not None:
                slots, scores = self._probe(ivf, query, allowed, size)
                if len(slots) >= k:
                    best = top_k(scores, k)
                    return slots[best], scores[best]
            scores = self.vectors[:size] @ query
            scores = np.where(allowed, scores, -np.inf)
            best = top_k(scores, min(k, int(allowed.sum())))
            return best, scores[best]

    def _probe(self, ivf: IvfIndex, query: np.ndarray, allowed: np.ndarray, size: int):
        nearest = top_k(ivf.centroids @ query, min(self.nprobe, ivf.lists))
        parts_slots, parts_scores = [], []
        for cluster in nearest:
            start, end = ivf.offsets[cluster], ivf.offsets[cluster + 1]
            if end > start:
                parts_slots.append(ivf.sorted_slots[start:end])
                parts_scores.append(ivf.sorted_vectors[start:end] @ query)
        if size > ivf.covered:
            parts_slots.append(np.arange(ivf.covered, size))
            parts_scores.append(self.vectors[ivf.covered : size] @ query)
        slots = np.concatenate(parts_slots) if parts_slots else np.zeros(0, dtype=np.int64)
        scores = np.concatenate(parts_scores) if parts_scores else np.zeros(0, dtype=np.float32)
        keep = allowed[slots]
        return slots[keep], scores[keep]

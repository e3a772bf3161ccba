"""Vectors for chunks that were indexed BM25-first: computed in bulk, committed round by round.

    done = backfill_vectors(store, embedder, on_progress=lambda done, total: ...)

Each round takes up to `ROUND` pending chunks, embeds them in one bulk call (every core,
length-sorted batches) and stores the vectors; searches see each round as it lands. An
interrupted backfill resumes where it stopped (the next `index`, or the server, picks it up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from memento_core.embeddings import Embedder
from memento_servers.search.store import PENDING, ChunkStore

log = logging.getLogger(__name__)

ROUND = 1024


def backfill_vectors(store: ChunkStore, embedder: Embedder, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Embed every pending chunk of `store`; returns how many were embedded."""
    total = store.pending()
    done = 0
    while rows := store.pending_rows(ROUND):
        vectors = embedder.embed([row["content"] for row in rows])
        for row, vector in zip(rows, vectors, strict=True):
            row["hash"] = row["hash"].removeprefix(PENDING)
            row["vector"] = vector
        store.fill_vectors(rows)
        done += len(rows)
        if on_progress:
            on_progress(done, max(total, done))
    if done:
        store.rebuild_text_index()  # the rewritten rows go back under the BM25 index
    return done


class BackgroundBackfill:
    """Runs `backfill_vectors` in one daemon thread at a time and remembers its progress for `search_status`."""

    def __init__(self, store: ChunkStore, embedder: Embedder):
        self.store = store
        self.embedder = embedder
        self.done = 0
        self.total = 0
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start a backfill unless one is running; True if started."""
        with self._lock:
            if self.running():
                return False
            self.done, self.error = 0, None
            self._thread = threading.Thread(target=self._run, name="search-backfill", daemon=True)
            self._thread.start()
            return True

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self) -> None:
        try:
            backfill_vectors(self.store, self.embedder, self._progress)
        except Exception as exc:  # a failed round leaves its rows pending; BM25 still answers
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("vector backfill failed")

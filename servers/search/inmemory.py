"""The corpus's BM25 index held in memory, built in the background and kept in step with the table.

    bm25 = InMemoryBM25(store, max_chunks=200_000)
    index = bm25.ready()     # a LexicalIndex of the table's current text, or None: ask LanceDB's FTS

Ranking in memory takes under a millisecond where LanceDB's on-disk FTS index takes 7-11 ms, with the
same quality (`benchmarks.search`). A new table version whose text did not change (a round of the
vector backfill) keeps the index; changed text is re-indexed in a background thread while queries
use LanceDB's index. A corpus over `max_chunks` chunks is never held: its index would be large.
Titles count twice here (once in LanceDB's index): a gain on both benchmarks' tune halves.
"""

from __future__ import annotations

import hashlib
import logging
import threading

from memento_servers.search.lexical import LexicalIndex
from memento_servers.search.store import PENDING, ChunkStore, content

log = logging.getLogger(__name__)


class InMemoryBM25:
    """One corpus's in-memory BM25 index, (re)built by one background thread at a time."""

    def __init__(self, store: ChunkStore, max_chunks: int):
        self.store = store
        self.max_chunks = max_chunks
        self._index: LexicalIndex | None = None
        self._version: int | None = None  # table version the index answers for
        self._text: str | None = None  # signature of the chunk texts it holds
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ready(self, version: int | None = None) -> LexicalIndex | None:
        """The index of the table's current text (at `version`, default the latest), or None while it is
        being built (or over the limit)."""
        version = self.store.version() if version is None else version
        with self._lock:
            if self._version == version:
                return self._index
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._catch_up, args=(version,), name="search-bm25", daemon=True)
                self._thread.start()
        return None

    def wait(self, timeout: float | None = None) -> LexicalIndex | None:
        """`ready()` after starting the build if needed and waiting up to `timeout` seconds for it."""
        if self.ready() is None and self._thread is not None:
            self._thread.join(timeout)
        return self.ready()

    def _catch_up(self, version: int) -> None:
        try:
            if self.store.count() > self.max_chunks:
                self._publish(version, None, None)
                return
            text = self._signature()
            if text == self._text:
                self._publish(version, self._index, text)  # only vectors changed
                return
            ids, titles, contents = self.store.read_contents()
            texts = [content(title, indexed) for title, indexed in zip(titles, contents, strict=True)]
            self._publish(version, LexicalIndex(ids, texts), text)
        except Exception:  # e.g. `index` rewriting the table right now: LanceDB answers, the next query retries
            log.exception("the in-memory BM25 index could not be built")

    def _signature(self) -> str:
        keys = self.store.read_keys()
        pairs = sorted(zip(keys.column("id").to_pylist(), keys.column("hash").to_pylist()))
        digest = hashlib.sha256()
        for item, rev in pairs:
            digest.update(f"{item}\0{rev.removeprefix(PENDING)}\n".encode())
        return digest.hexdigest()

    def _publish(self, version: int, index: LexicalIndex | None, text: str | None) -> None:
        with self._lock:
            self._index, self._version, self._text = index, version, text

"""The `local` backend: hybrid retrieval (BM25 + vectors, fused by normalised score or RRF) over the indexed corpus.

BM25 ranks in memory (`inmemory.InMemoryBM25`) once that index is built, with LanceDB's on-disk
FTS index answering until then and for corpora too large to hold. While chunks still wait for their
vectors (BM25-first indexing), vector search covers the chunks
that have one, `notice` says so for the chain's warnings, and `describe` shows the backfill's
progress; with `backfill` on, the backend computes the missing vectors itself in the background.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import anyio

from memento_core.embeddings import Embedder
from memento_servers.search.backfill import BackgroundBackfill
from memento_servers.search.errors import BackendUnavailable
from memento_servers.search.feedback import rm3
from memento_servers.search.fusion import minmax, rrf
from memento_servers.search.inmemory import InMemoryBM25
from memento_servers.search.models import Result
from memento_servers.search.store import ChunkStore, content

log = logging.getLogger(__name__)

MAX_WIDENING = 8  # how far past max_results to look when chunks of one document crowd the ranking


@dataclass(frozen=True)
class Retrieval:
    """How local results are ranked."""

    mode: str = "hybrid"  # hybrid | fts | vector
    fusion: str = "minmax"  # minmax (scores, see fusion.minmax) | rrf (ranks)
    rrf_k: int = 60
    fts_weight: float = 1.25
    depth: int = 20
    feedback_weight: float = 0.0  # weight of the RM3-expanded BM25 ranking in minmax fusion (0: no feedback)
    feedback_docs: int = 10  # fused hits the expansion terms come from
    feedback_terms: int = 20  # expansion terms kept
    feedback_query_weight: float = 0.5  # share of the original query in the expanded one
    memory_bm25_max_chunks: int = 200_000  # a larger corpus is ranked by LanceDB's FTS index on disk, without feedback
    snippet_chars: int = 600


def _snippet(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class LocalBackend:
    """Searches one corpus of the local index; the index and the embedding model open on first use."""

    name = "local"
    kind = "local"

    def __init__(self, store: ChunkStore, embedder: Embedder, retrieval: Retrieval, backfill: bool = False):
        self.store = store
        self.embedder = embedder
        self.retrieval = retrieval
        self.backfill = BackgroundBackfill(store, embedder) if backfill else None
        self.bm25 = InMemoryBM25(store, retrieval.memory_bm25_max_chunks)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-fts")

    def describe(self) -> str:
        if not self.store.exists():
            return f"corpus '{self.store.corpus}' not indexed yet (run memento-search index PATH)"
        count = self.store.count()
        text = f"corpus '{self.store.corpus}': {count} chunks in {self.store.index_dir}"
        pending = self._pending()
        if pending:
            text += f"; vectors {count - pending}/{count} (backfill {'running' if self._backfilling() else 'waiting'})"
        if self.backfill is not None and self.backfill.error:
            text += f"; last backfill failed: {self.backfill.error}"
        text += f"; BM25 {'in memory' if self.bm25.ready() is not None else 'on disk'}"
        return text + f"; embeddings {getattr(self.embedder, 'describe', lambda: self.embedder.model_name)()}"

    def notice(self) -> str | None:
        """A warning for the response while some chunks have no vector yet."""
        if self.retrieval.mode == "fts" or self.store.chunks() is None:
            return None
        pending = self._pending()
        if not pending:
            return None
        count = self.store.count()
        return (
            f"local: vectors are still being computed ({count - pending}/{count} chunks); "
            "the other chunks were found by BM25 only"
        )

    def _pending(self) -> int:
        pending = self.store.pending()
        if pending and self.backfill is not None and not self.backfill.running() and not self.backfill.error:
            self.backfill.start()
        return pending

    def _backfilling(self) -> bool:
        return self.backfill is not None and self.backfill.running()

    def rank(self, query: str, limit: int) -> list[tuple[dict[str, Any], float]]:
        """Rows and fused scores, best first (blocking)."""
        try:
            return self._rank(query, limit)
        except BackendUnavailable:
            raise
        except Exception as exc:  # a LanceDB failure, e.g. the BM25 index being rebuilt by `index` right now
            log.exception("local search failed")
            raise BackendUnavailable("local", f"the index could not be read ({type(exc).__name__}); retry shortly") from None

    def _rank(self, query: str, limit: int) -> list[tuple[dict[str, Any], float]]:
        if self.store.chunks() is None:
            raise BackendUnavailable("local", f"corpus '{self.store.corpus}' is not indexed: run `memento-search index PATH`")
        version = self.store.version()  # read once: each read is a hop to LanceDB's event loop thread
        mode = self.retrieval.mode
        if mode == "fts":
            return self._with_rows(list(self._text_scores(query, limit, version).items()), version)
        if mode == "vector":
            return self._with_rows(list(self._vector_scores(query, limit, version).items()), version)
        depth = max(self.retrieval.depth, limit)
        text_future = self._pool.submit(self._text_scores, query, depth, version)  # overlaps the query embedding
        vector_scores = self._vector_scores(query, depth, version)
        text_scores = text_future.result()
        if not text_scores and not vector_scores and not self.store.count():
            raise BackendUnavailable("local", f"corpus '{self.store.corpus}' is empty: run `memento-search index PATH`")
        weights = [self.retrieval.fts_weight, 1.0]
        if self.retrieval.fusion == "rrf":
            fused = rrf([list(text_scores), list(vector_scores)], weights, self.retrieval.rrf_k, depth)
        else:
            fused = minmax([text_scores, vector_scores], weights)
            if self.retrieval.feedback_weight > 0:
                fused = self._with_feedback(query, fused, [text_scores, vector_scores], weights, depth, version)
        return self._with_rows(fused[:limit], version)

    def _with_rows(self, scored: list[tuple[str, float]], version: int) -> list[tuple[dict[str, Any], float]]:
        """Each (chunk id, score) with the chunk's result columns; chunks deleted meanwhile are dropped."""
        rows = self.store.rows_by_id([item for item, _ in scored], version)
        return [(rows[item], score) for item, score in scored if item in rows]

    def _with_feedback(self, query, fused, scored, weights, depth, version):
        """`fused` re-fused with a third ranking: BM25 of the query expanded (RM3) from the fused top hits
        (none while the in-memory index is not ready)."""
        index = self.bm25.ready(version)
        if index is None:
            return fused
        top = fused[: self.retrieval.feedback_docs]
        rows = self.store.rows_by_id([item for item, _ in top], version)
        hits = [(index.analyze(content(rows[item]["title"], rows[item]["text"])), score) for item, score in top if item in rows]
        expanded = rm3(index.analyze(query), hits, self.retrieval.feedback_terms, self.retrieval.feedback_query_weight)
        return minmax([*scored, dict(index.top(expanded, depth))], [*weights, self.retrieval.feedback_weight])

    def _text_scores(self, query: str, limit: int, version: int) -> dict[str, float]:
        index = self.bm25.ready(version)
        if index is None:
            return self.store.text_scores(query, limit)
        return dict(index.top(index.weights_of(query), limit))

    def _vector_scores(self, query: str, limit: int, version: int) -> dict[str, float]:
        return self.store.vector_scores(self.embedder.embed_query(query), limit, version)

    def to_result(self, row: dict[str, Any], score: float) -> Result:
        return Result(
            title=row["title"],
            url=row["url"],
            snippet=_snippet(row["text"], self.retrieval.snippet_chars),
            source=self.name,
            score=round(score, 6),
            id=row["doc_id"],
            chunk=row["chunk"],
        )

    def search_blocking(self, query: str, max_results: int) -> list[Result]:
        """The best chunk of each of the top `max_results` documents."""
        limit = max_results
        while True:
            ranked = self.rank(query, limit)
            best: dict[str, Result] = {}
            for row, score in ranked:
                best.setdefault(row["doc_id"], self.to_result(row, score))
            if len(best) >= max_results or len(ranked) < limit or limit >= max_results * MAX_WIDENING:
                return list(best.values())[:max_results]
            limit *= 2  # chunks of one document crowded the list: look further down

    async def search(self, query: str, max_results: int) -> list[Result]:
        return await anyio.to_thread.run_sync(self.search_blocking, query, max_results)

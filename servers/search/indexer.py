"""Incremental indexing of files and JSONL into the local corpus.

    report = index_paths([Path("docs/")], settings)     # the library call behind `memento-search index`

A file whose size and mtime are unchanged is skipped without being read; a changed file is
re-chunked, and only chunks whose text is new are embedded. Files that vanished from an
indexed folder lose their chunks.

Indexing is BM25-first: new chunks are written with their text and the BM25 index is built
(searchable at once), then their vectors are backfilled in bulk (`backfill.py`); `backfill=False`
leaves that to a later `index` run or to the server.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from memento_core.embeddings import Embedder
from memento_core.text.chunks import chunk_text
from memento_core.units import mib
from memento_servers.search.backfill import backfill_vectors
from memento_servers.search.config import SearchSettings
from memento_servers.search.errors import IndexingError
from memento_servers.search.sources import SourceDoc, discover, read_source
from memento_servers.search.store import PENDING, ChunkStore, SourceState, content

log = logging.getLogger(__name__)


class IndexReport(BaseModel):
    """What one indexing run did."""

    corpus: str
    index_dir: str
    files_seen: int = 0
    files_indexed: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    files_failed: int = 0
    documents: int = 0
    chunks_written: int = 0
    chunks_embedded: int = 0
    chunks_pending: int = 0
    total_chunks: int = 0
    bm25_seconds: float = Field(0.0, description="Until the new text was searchable with BM25.")
    seconds: float = 0.0
    errors: list[str] = Field(default_factory=list)


@dataclass
class _Pending:
    state: SourceState
    rows: list[dict[str, Any]] = field(default_factory=list)


def _chunk_rows(docs: list[SourceDoc], source: str, chunk_chars: int, overlap: int) -> list[dict[str, Any]]:
    rows = []
    for doc in docs:
        for number, text in enumerate(chunk_text(doc.text, chunk_chars, overlap)):
            indexed = content(doc.title, text)
            rows.append(
                {
                    "id": f"{doc.doc_id}#{number}",
                    "doc_id": doc.doc_id,
                    "chunk": number,
                    "title": doc.title,
                    "text": text,
                    "content": indexed,
                    "url": doc.url,
                    "source": source,
                    "hash": hashlib.sha256(indexed.encode()).hexdigest(),
                }
            )
    return rows


class Indexer:
    """Brings one corpus up to date with a set of paths."""

    def __init__(self, store: ChunkStore, embedder: Embedder, *, chunk_chars: int, overlap: int, max_bytes: int):
        self.store = store
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.overlap = overlap
        self.max_bytes = max_bytes

    def run(self, paths: list[Path], progress: bool = False, backfill: bool = True) -> IndexReport:
        from tqdm import tqdm

        started = time.perf_counter()
        report = IndexReport(corpus=self.store.corpus, index_dir=str(self.store.index_dir))
        files, folders = discover(paths)
        report.files_seen = len(files)
        known = self.store.source_states()
        pending: list[_Pending] = []
        touched: list[SourceState] = []
        for path in tqdm(files, desc="reading", unit="file", disable=not progress, leave=False):
            try:
                item = self._read(path, known.get(str(path)), report)
            except (IndexingError, OSError) as exc:
                report.files_failed += 1
                report.errors.append(str(exc))
                log.warning("skipped %s", exc)
                continue
            if isinstance(item, SourceState):
                touched.append(item)
            elif item is not None:
                pending.append(item)
        vanished = self._vanished(known, files, folders)
        changed = bool(pending or vanished)
        if changed:
            self.store.ensure(self.embedder.model_name, self.embedder.dim)
        self._reuse_vectors(pending)
        for item in pending:
            self.store.replace_source(item.state, item.rows)
            report.chunks_written += len(item.rows)
        for state in touched:
            self.store.touch_source(state)
        for source in vanished:
            self.store.delete_source(source)
        report.files_removed = len(vanished)
        if changed:
            self.store.rebuild_text_index()
        report.bm25_seconds = round(time.perf_counter() - started, 3)
        if backfill and self.store.pending():
            if progress:
                print(f"BM25 index ready after {report.bm25_seconds:.1f} s; computing vectors", file=sys.stderr)
            report.chunks_embedded = self._backfill(progress)
        report.chunks_pending = self.store.pending()
        report.total_chunks = self.store.count()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _read(self, path: Path, old: SourceState | None, report: IndexReport) -> _Pending | SourceState | None:
        """None when unchanged; a SourceState when only the mtime moved; else the new chunks."""
        stat = path.stat()
        if old is not None and (old.mtime_ns, old.size) == (stat.st_mtime_ns, stat.st_size):
            report.files_unchanged += 1
            return None
        data = path.read_bytes()
        state = SourceState(str(path), stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest())
        if old is not None and old.sha256 == state.sha256:
            report.files_unchanged += 1
            return state
        docs = read_source(path, data, self.max_bytes)
        report.files_indexed += 1
        report.documents += len(docs)
        return _Pending(state, _chunk_rows(docs, str(path), self.chunk_chars, self.overlap))

    def _vanished(self, known: dict[str, SourceState], files: list[Path], folders: list[Path]) -> list[str]:
        present = {str(path) for path in files}
        prefixes = tuple(str(folder) + os.sep for folder in folders)
        return [source for source in known if source.startswith(prefixes) and source not in present]

    def _reuse_vectors(self, pending: list[_Pending]) -> None:
        """Give each new row the stored vector of an unchanged text, or mark it pending for the backfill."""
        zero = np.zeros(self.embedder.dim, dtype=np.float32)
        for item in pending:
            reusable = self.store.vectors_by_hash(item.state.source) if self.store.exists() else {}
            for row in item.rows:
                vector = reusable.get(row["hash"])
                row["vector"] = zero if vector is None else vector
                if vector is None:
                    row["hash"] = PENDING + row["hash"]

    def _backfill(self, progress: bool) -> int:
        from tqdm import tqdm

        with tqdm(total=self.store.pending(), desc="vectors", unit="chunk", disable=not progress) as bar:
            return backfill_vectors(self.store, self.embedder, lambda done, _total: bar.update(done - bar.n))


def _indexer(store: ChunkStore, settings: SearchSettings, embedder: Embedder | None) -> Indexer:
    return Indexer(
        store,
        embedder or settings.embedder(),
        chunk_chars=settings.chunk_chars,
        overlap=settings.chunk_overlap,
        max_bytes=mib(settings.max_file_mb),
    )


def reindex(settings: SearchSettings, embedder: Embedder | None = None, progress: bool = False) -> IndexReport:
    """Re-embed the whole corpus with the configured model and backend (after changing either): the
    text stays searchable by BM25 throughout, the vectors are recomputed in bulk."""
    started = time.perf_counter()
    store = ChunkStore(settings.index_dir, settings.corpus)
    if not store.exists():
        raise IndexingError(f"corpus '{settings.corpus}' in {settings.index_dir} is not indexed: run `memento-search index PATH`")
    indexer = _indexer(store, settings, embedder)
    report = IndexReport(corpus=store.corpus, index_dir=str(store.index_dir))
    store.reset_vectors(indexer.embedder.model_name, indexer.embedder.dim)
    store.rebuild_text_index()
    report.bm25_seconds = round(time.perf_counter() - started, 3)
    report.chunks_embedded = indexer._backfill(progress)
    report.total_chunks = store.count()
    report.chunks_pending = store.pending()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def index_paths(
    paths: list[Path],
    settings: SearchSettings,
    embedder: Embedder | None = None,
    progress: bool = False,
    backfill: bool = True,
) -> IndexReport:
    """Index `paths` into `settings.corpus` under `settings.index_dir`; quick when nothing changed."""
    indexer = _indexer(ChunkStore(settings.index_dir, settings.corpus), settings, embedder)
    return indexer.run(paths, progress=progress, backfill=backfill)

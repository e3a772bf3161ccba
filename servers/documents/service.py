"""The documents service: resolve a source, convert it in a worker (or take it from the cache), answer queries.

Plain async code with no MCP imports; the runtime reports its `DocumentError`s as tool errors.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from memento_core.lru import LRU
from memento_core.units import mib
from memento_core.workers import WORKER_MEMORY_MB, WORKERS, WorkerErrors, WorkerPool
from memento_servers.documents.cache import DocumentCache, content_hash
from memento_servers.documents.convert import select_pages, too_large
from memento_servers.documents.errors import CorruptDocument, DocumentError, LimitExceeded, UnsupportedFormat
from memento_servers.documents.find import Hit, PassageIndex
from memento_servers.documents.model import Document, Limits
from memento_servers.documents.outline import headings
from memento_servers.documents.sources import Source, open_confined, resolve_source

log = logging.getLogger(__name__)

DOWNLOAD_TTL_S = 300.0
DOWNLOADS_KEPT = 4
INDEXES_KEPT = 4


@dataclass(frozen=True)
class ServiceConfig:
    limits: Limits
    timeout_s: float = 60.0
    workers: int = WORKERS
    worker_memory_mb: int = WORKER_MEMORY_MB
    cache_folder: Path | None = None
    cache_max_bytes: int = mib(1024)
    allow_hosts: tuple[str, ...] = ()
    fetch_timeout_s: float = 30.0
    semantic: bool = False
    max_render_dpi: int = 200
    max_render_pixels: int = 4_000_000


@dataclass
class Loaded:
    """A source's bytes, their hash and size."""

    source: Source
    digest: str
    size: int
    is_pdf: bool
    payload: bytes = b""
    args: dict[str, Any] = field(default_factory=dict)


class DocumentService:
    def __init__(self, config: ServiceConfig):
        self.config = config
        self.pool = WorkerPool(
            "memento_servers.documents.operations", WorkerErrors(DocumentError, LimitExceeded, CorruptDocument),
            size=config.workers, memory_mb=config.worker_memory_mb, timeout_s=config.timeout_s,
            advice="ask for fewer pages (pages=...) or raise --timeout-s",
        )
        self.cache = DocumentCache(config.cache_folder, config.cache_max_bytes)
        self._fetcher = None
        self._embedder = None
        self._vectors: dict[str, Any] = {}
        self._downloads: LRU[str, tuple[float, Loaded]] = LRU(DOWNLOADS_KEPT)
        self._indexes: LRU[str, PassageIndex] = LRU(INDEXES_KEPT)

    def start(self) -> None:
        self.pool.start()

    async def close(self) -> None:
        self.pool.close()
        if self._fetcher is not None:
            await self._fetcher.aclose()

    # ---- sources ---------------------------------------------------------------------------

    def _fetcher_for_urls(self):
        if self._fetcher is None:
            from memento_core.fetch import Fetcher, FetchPolicy

            policy = FetchPolicy(
                allow_hosts=list(self.config.allow_hosts), max_bytes=self.config.limits.max_bytes,
                timeout_s=self.config.fetch_timeout_s, limit_setting="--max-file-mb",
            )
            self._fetcher = Fetcher(policy)
        return self._fetcher

    async def load(self, text: str, roots: list[Path]) -> Loaded:
        """The source's content; a path must lie inside `roots` (see `roots.allowed_roots`)."""
        source = resolve_source(text, roots)
        if source.path is not None:
            data, digest = await anyio.to_thread.run_sync(self._read_file, text, source.path, roots)
            return Loaded(source, digest, len(data), b"%PDF-" in data[:1024], payload=data, args={"filename": source.name})
        return await self._download(source)

    def _read_file(self, text: str, path: Path, roots: list[Path]) -> tuple[bytes, str]:
        """The bytes of the file actually opened inside a root, and their hash: what gets converted and cached."""
        limits = self.config.limits
        with open(open_confined(path, roots), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_bytes:
                raise too_large(text, size, limits)
            data = handle.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:  # it grew while being read
            raise too_large(text, len(data), limits)
        return data, content_hash(data)

    async def _download(self, source: Source) -> Loaded:
        """A URL's content, remembered for a few minutes so that paging through it fetches it once."""
        url = source.url or ""
        now = time.monotonic()
        kept = self._downloads.get(url)
        if kept is not None and now - kept[0] < DOWNLOAD_TTL_S:
            return kept[1]
        result = await self._fetcher_for_urls().fetch(url)
        data = result.content
        loaded = Loaded(
            source, content_hash(data), len(data), b"%PDF-" in data[:1024], payload=data,
            args={"filename": source.name, "content_type": result.headers.get("content-type"), "url": result.final_url},
        )
        self._downloads.put(url, (now, loaded))
        return loaded

    # ---- conversion ------------------------------------------------------------------------

    def _key(self, loaded: Loaded, pages: list[int] | None) -> str:
        """Content hash plus everything else the output depends on: pages, type hints, limits."""
        variant = json.dumps(
            {
                "pages": pages,
                "suffix": Path(loaded.args.get("filename") or "").suffix.lower(),
                "content_type": loaded.args.get("content_type"),
                "limits": self.config.limits.model_dump(),
            },
            sort_keys=True,
        )
        return self.cache.key(loaded.digest, variant)

    async def _convert(self, loaded: Loaded, pages: list[int] | None) -> Document:
        key = self._key(loaded, pages)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if pages and (whole := self.cache.get(self._key(loaded, None))) is not None:
            return select_pages(whole, pages)
        args = {**loaded.args, "pages": pages, "limits": self.config.limits.model_dump()}
        _, data = await self.pool.call("convert", args, loaded.payload)
        document = Document.model_validate_json(data)
        self.cache.put(key, document)
        return document

    async def document(self, loaded: Loaded, pages: list[int] | None = None) -> Document:
        """The converted document; only PDFs convert just the requested pages, other formats are cut after."""
        if pages and loaded.is_pdf:
            return await self._convert(loaded, pages)
        document = await self._convert(loaded, None)
        if pages:
            document = select_pages(document, pages)
        return document

    async def info(self, loaded: Loaded) -> dict[str, Any]:
        """Format, pages, metadata and outline; a PDF is not converted for this."""
        if loaded.is_pdf:
            message, _ = await self.pool.call("pdf_summary", {**loaded.args, "limits": self.config.limits.model_dump()}, loaded.payload)
            return {**message["summary"], "title": message["summary"]["metadata"].get("title"), "page_labels": []}
        document = await self.document(loaded)
        return {
            "format": document.format,
            "page_count": document.page_count,
            "metadata": document.metadata,
            "outline": headings(document),
            "title": document.title,
            "page_labels": [span.label or str(span.page) for span in document.pages][:500],
            "total_chars": len(document.markdown),
            "warnings": document.warnings,
        }

    async def render(self, loaded: Loaded, page: int, dpi: int) -> tuple[dict[str, Any], bytes]:
        """Page `page` of a PDF as PNG bytes, and its size and the document's page count."""
        if not loaded.is_pdf:
            raise UnsupportedFormat(
                f"{loaded.source.name or 'this source'} is not a PDF: only PDF pages can be rendered as images; "
                "read it with read_document"
            )
        if dpi > self.config.max_render_dpi:
            raise LimitExceeded(f"dpi={dpi} is over this server's limit of {self.config.max_render_dpi} (--max-render-dpi)")
        args = {"page": page, "dpi": dpi, "max_pixels": self.config.max_render_pixels}
        return await self.pool.call("render_page", args, loaded.payload)

    # ---- search ----------------------------------------------------------------------------

    async def find(self, loaded: Loaded, query: str, max_results: int) -> tuple[Document, list[Hit], bool]:
        document = await self.document(loaded)
        index = self._indexes.get(loaded.digest)
        if index is None:
            index = await anyio.to_thread.run_sync(PassageIndex, document)
            self._indexes.put(loaded.digest, index)
        semantic = None
        if self.config.semantic and importlib.util.find_spec("sentence_transformers") is not None and index.passages:
            semantic = await anyio.to_thread.run_sync(self._semantic_scores, loaded.digest, query, index.passages)
        return document, index.search(query, max_results, semantic), semantic is not None

    def _semantic_scores(self, digest: str, query: str, passages) -> list[float]:
        from memento_core.embeddings import Embedder

        if self._embedder is None:
            self._embedder = Embedder()
        if digest not in self._vectors:
            self._vectors = {digest: self._embedder.embed([p.text for p in passages])}  # keep one document's vectors
        vectors = self._vectors[digest]
        return (vectors @ self._embedder.embed([query])[0]).tolist()

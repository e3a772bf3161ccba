"""Converted documents, keyed by the content's hash and the conversion options: on disk, and the last few in memory."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from memento_core.cache import DiskCache
from memento_core.lru import LRU
from memento_servers.documents.model import Document

FORMAT_VERSION = "2"  # bump when conversion output changes, so stale entries are ignored


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _encode(document: Document) -> bytes:
    return gzip.compress(document.model_dump_json().encode(), compresslevel=1)


def _decode(data: bytes) -> Document:
    return Document.model_validate_json(gzip.decompress(data))


class DocumentCache:
    """gzip'd JSON in a cache file under `folder`, at most `max_bytes` of entries (oldest evicted), plus the last
    few documents in memory; `folder=None` disables it."""

    def __init__(self, folder: Path | None, max_bytes: int, memory_items: int = 16):
        self.disk = DiskCache(folder / "documents.sqlite" if folder else None, max_bytes=max_bytes, encode=_encode, decode=_decode)
        self._memory: LRU[str, Document] = LRU(memory_items)

    @staticmethod
    def key(digest: str, variant: str) -> str:
        return hashlib.sha256(f"{FORMAT_VERSION}:{digest}:{variant}".encode()).hexdigest()

    def get(self, key: str) -> Document | None:
        if not self.disk.enabled:
            return None
        document = self._memory.get(key)
        if document is None and (document := self.disk.get(key)) is not None:
            self._memory.put(key, document)
        return document

    def put(self, key: str, document: Document) -> None:
        if self.disk.enabled:
            self._memory.put(key, document)
            self.disk.put(key, document)

"""Converted documents on disk, keyed by the content's hash and the conversion options."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
from collections import OrderedDict
from pathlib import Path

from pydantic import ValidationError

from memento_servers.documents.model import Document

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"  # bump when conversion output changes, so stale entries are ignored


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileHashes:
    """SHA-256 of files, remembered per (path, size, mtime) so unchanged files are hashed once."""

    def __init__(self, capacity: int = 1024):
        self._known: OrderedDict[tuple[str, int, int], str] = OrderedDict()
        self.capacity = capacity

    def of(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key in self._known:
            self._known.move_to_end(key)
            return self._known[key]
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        self._known[key] = digest.hexdigest()
        if len(self._known) > self.capacity:
            self._known.popitem(last=False)
        return self._known[key]


class DocumentCache:
    """gzip'd JSON files under `folder`, plus the last few documents in memory; `folder=None` disables it."""

    def __init__(self, folder: Path | None, memory_items: int = 16):
        self.folder = folder
        self._memory: OrderedDict[str, Document] = OrderedDict()
        self.memory_items = memory_items

    @staticmethod
    def key(digest: str, variant: str) -> str:
        return hashlib.sha256(f"{FORMAT_VERSION}:{digest}:{variant}".encode()).hexdigest()

    def _file(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json.gz"

    def get(self, key: str) -> Document | None:
        if self.folder is None:
            return None
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        try:
            document = Document.model_validate_json(gzip.decompress(self._file(key).read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, EOFError, ValidationError) as exc:
            log.warning("ignoring a damaged cache entry %s: %s", key, exc)
            return None
        self._remember(key, document)
        return document

    def put(self, key: str, document: Document) -> None:
        if self.folder is None:
            return
        self._remember(key, document)
        path = self._file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(gzip.compress(document.model_dump_json().encode(), compresslevel=1))
            partial.replace(path)
        except OSError as exc:
            log.warning("cannot write the document cache at %s: %s", path, exc)

    def _remember(self, key: str, document: Document) -> None:
        self._memory[key] = document
        self._memory.move_to_end(key)
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

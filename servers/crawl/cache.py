"""A disk cache of fetched pages with a time-to-live: (URL, render mode) -> `Page`.

One JSON file per entry under `<cache_dir>/crawl/pages/`, written atomically; expired
entries are ignored on read and swept now and then on write.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

from pydantic import ValidationError

from memento_servers.crawl.models import Page

log = logging.getLogger(__name__)
SWEEP_EVERY = 200  # writes between sweeps of expired entries


class PageCache:
    def __init__(self, directory: Path, ttl_s: float):
        self.directory = directory
        self.ttl_s = ttl_s
        self._writes = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def _path(self, url: str, render: str) -> Path:
        digest = hashlib.sha256(f"{render}\n{url}".encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, url: str, render: str) -> Page | None:
        if not self.enabled:
            return None
        path = self._path(url, render)
        try:
            entry = json.loads(path.read_text("utf-8"))
            if time.time() - entry["stored_at"] > self.ttl_s:
                return None
            return Page.model_validate(entry["page"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, ValidationError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None

    def put(self, url: str, render: str, page: Page) -> None:
        if not self.enabled:
            return
        path = self._path(url, render)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps({"stored_at": time.time(), "page": page.model_dump()}), "utf-8")
            os.replace(temporary, path)
        except OSError as exc:
            log.warning("cannot write cache entry %s: %s", path, exc)
            return
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            self.sweep()

    def sweep(self) -> int:
        """Delete expired entries; returns how many."""
        removed, now = 0, time.time()
        for path in self.directory.glob("*/*.json"):
            try:
                if now - path.stat().st_mtime > self.ttl_s:
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

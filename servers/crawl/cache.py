"""Fetched pages on disk (`memento_core.cache.DiskCache`) for a time-to-live: (policy, URL, render mode) -> `Page`.

The fetch policy's scope (`FetchPolicy.scope`: allowed hosts, robots.txt) is part of the key, so a page
fetched under a wider policy (e.g. `--allow-host 127.0.0.1`) is never served under a narrower one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from memento_core.cache import DiskCache
from memento_core.units import mib
from memento_servers.crawl.models import Page

MAX_BYTES = mib(512)


class PageCache:
    """Pages under `directory` for `ttl_s` seconds, for fetches under `scope`; `ttl_s` 0 disables it."""

    def __init__(self, directory: Path, ttl_s: float, scope: str = ""):
        self.scope = scope
        self.disk = DiskCache(
            directory / "pages.sqlite" if ttl_s > 0 else None, max_bytes=MAX_BYTES, ttl_s=ttl_s,
            encode=lambda page: page.model_dump_json().encode(), decode=Page.model_validate_json,
        )

    def _key(self, url: str, render: str) -> str:
        return hashlib.sha256(f"{self.scope}\n{render}\n{url}".encode()).hexdigest()

    def get(self, url: str, render: str) -> Page | None:
        return self.disk.get(self._key(url, render))

    def put(self, url: str, render: str, page: Page) -> None:
        self.disk.put(self._key(url, render), page)

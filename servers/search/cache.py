"""Web results on disk (`memento_core.cache.DiskCache`), keyed by backend, normalised query and size."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from pydantic import TypeAdapter

from memento_core.cache import DiskCache
from memento_core.units import mib
from memento_servers.search.models import Result

MAX_BYTES = mib(64)
RESULTS = TypeAdapter(list[Result])


def cache_key(backend: str, query: str, max_results: int) -> str:
    normal = " ".join(query.lower().split())
    return hashlib.sha256(json.dumps([backend, normal, max_results]).encode()).hexdigest()


class ResultCache:
    """Web results for `ttl_s` seconds in one SQLite file; `ttl_s` 0 disables it."""

    def __init__(self, path: Path, ttl_s: float, clock=time.time):
        self.disk = DiskCache(
            path if ttl_s > 0 else None, max_bytes=MAX_BYTES, ttl_s=ttl_s, clock=clock,
            encode=RESULTS.dump_json, decode=RESULTS.validate_json,
        )

    def get(self, backend: str, query: str, max_results: int) -> list[Result] | None:
        return self.disk.get(cache_key(backend, query, max_results))

    def put(self, backend: str, query: str, max_results: int, results: list[Result]) -> None:
        self.disk.put(cache_key(backend, query, max_results), results)

    def count(self) -> int:
        return self.disk.count()

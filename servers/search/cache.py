"""The on-disk cache of web results: one SQLite file, entries expire after a TTL."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from pathlib import Path

from memento_servers.search.models import Result

log = logging.getLogger(__name__)


def cache_key(backend: str, query: str, max_results: int) -> str:
    normal = " ".join(query.lower().split())
    return hashlib.sha256(json.dumps([backend, normal, max_results]).encode()).hexdigest()


class ResultCache:
    """Web results keyed by (backend, normalised query, max_results); `ttl_s` 0 disables it."""

    def __init__(self, path: Path, ttl_s: float, clock=time.time):
        self.path = path
        self.ttl_s = ttl_s
        self.clock = clock
        self._db: sqlite3.Connection | None = None

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, stored REAL, body TEXT)")
        return self._db

    def get(self, backend: str, query: str, max_results: int) -> list[Result] | None:
        if not self.enabled:
            return None
        row = self._conn().execute(
            "SELECT stored, body FROM results WHERE key = ?", (cache_key(backend, query, max_results),)
        ).fetchone()
        if row is None or self.clock() - row[0] > self.ttl_s:
            return None
        return [Result.model_validate(item) for item in json.loads(row[1])]

    def put(self, backend: str, query: str, max_results: int, results: list[Result]) -> None:
        if not self.enabled:
            return
        body = json.dumps([result.model_dump() for result in results])
        with self._conn() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?)",
                (cache_key(backend, query, max_results), self.clock(), body),
            )
            conn.execute("DELETE FROM results WHERE stored < ?", (self.clock() - self.ttl_s,))

    def count(self) -> int:
        if not self.enabled:
            return 0
        return self._conn().execute("SELECT COUNT(*) FROM results").fetchone()[0]

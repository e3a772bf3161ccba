"""One disk cache: values in a SQLite file, atomic, capped in bytes, with an optional time-to-live.

    cache = DiskCache(path, max_bytes=mib(64), ttl_s=3600, encode=to_bytes, decode=from_bytes)

Every write is one transaction, so readers in any process see a whole entry or none. A write
drops expired entries, then the oldest ones until the file's entries fit in `max_bytes`.
Reads ignore expired entries; an entry that cannot be decoded (or an unreadable file) is a miss.
`path=None` disables the cache.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, stored REAL NOT NULL, size INTEGER NOT NULL, body BLOB)",
    "CREATE INDEX IF NOT EXISTS entries_by_age ON entries (stored)",
)


class DiskCache(Generic[T]):
    """Values of one type by string key; `encode`/`decode` turn them into bytes and back."""

    def __init__(
        self,
        path: Path | None,
        *,
        max_bytes: int,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        ttl_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.path = path
        self.max_bytes = max_bytes
        self.encode = encode
        self.decode = decode
        self.ttl_s = ttl_s
        self.clock = clock
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            assert self.path is not None
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            for statement in SCHEMA:
                db.execute(statement)
            self._db = db
        return self._db

    def _expired_before(self) -> float:
        return self.clock() - self.ttl_s if self.ttl_s is not None else float("-inf")

    def get(self, key: str) -> T | None:
        if not self.enabled:
            return None
        try:
            with self._lock:
                row = self._conn().execute(
                    "SELECT body FROM entries WHERE key = ? AND stored >= ?", (key, self._expired_before())
                ).fetchone()
        except (OSError, sqlite3.Error) as exc:
            log.warning("cannot read the cache %s: %s", self.path, exc)
            return None
        if row is None:
            return None
        try:
            return self.decode(row[0])
        except Exception as exc:  # a damaged entry is a miss, whatever the decoder raises
            log.warning("ignoring a damaged cache entry in %s: %s", self.path, exc)
            return None

    def put(self, key: str, value: T) -> None:
        if not self.enabled:
            return
        body = self.encode(value)
        try:
            with self._lock:
                db = self._conn()
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", (key, self.clock(), len(body), body))
                    db.execute("DELETE FROM entries WHERE stored < ?", (self._expired_before(),))
                    self._evict(db)
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
        except (OSError, sqlite3.Error) as exc:
            log.warning("cannot write the cache %s: %s", self.path, exc)

    def _evict(self, db: sqlite3.Connection) -> None:
        """Delete the oldest entries until the rest fit in `max_bytes`."""
        excess = db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0] - self.max_bytes
        if excess <= 0:
            return
        doomed = []
        for key, size in db.execute("SELECT key, size FROM entries ORDER BY stored, key"):
            doomed.append((key,))
            excess -= size
            if excess <= 0:
                break
        db.executemany("DELETE FROM entries WHERE key = ?", doomed)

    def count(self) -> int:
        """Entries stored, expired ones included until the next write."""
        if not self.enabled:
            return 0
        with self._lock:
            return self._conn().execute("SELECT COUNT(*) FROM entries").fetchone()[0]

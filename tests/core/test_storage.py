"""The shared storage pieces in memento_core: sizes, the LRU map and the disk cache."""

from __future__ import annotations

import sqlite3
import threading

from memento_core.cache import DiskCache
from memento_core.lru import LRU
from memento_core.units import mib


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def text_cache(tmp_path, **options) -> DiskCache[str]:
    return DiskCache(tmp_path / "c.sqlite", encode=str.encode, decode=lambda data: data.decode("ascii"), **options)


def test_sizes_are_mebibytes():
    assert mib(1) == 1_048_576 and mib(0.5) == 524_288


def test_the_lru_keeps_the_most_recently_used_entries():
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # now "b" is the oldest
    lru.put("c", 3)
    assert (lru.get("a"), lru.get("b"), lru.get("c")) == (1, None, 3)
    assert LRU(0).get("x") is None


def test_entries_expire_after_their_ttl(tmp_path):
    clock = Clock()
    cache = text_cache(tmp_path, max_bytes=mib(1), ttl_s=60, clock=clock)
    cache.put("k", "value")
    assert cache.get("k") == "value" and text_cache(tmp_path, max_bytes=mib(1)).get("k") == "value"
    clock.now += 61
    assert cache.get("k") is None
    cache.put("other", "v")  # a write drops expired entries
    assert cache.count() == 1


def test_the_byte_cap_evicts_the_oldest_entries_on_write(tmp_path):
    clock = Clock()
    cache = text_cache(tmp_path, max_bytes=25, clock=clock)
    for key in "abc":
        cache.put(key, key * 10)
        clock.now += 1
    assert [cache.get(key) for key in "abc"] == [None, "b" * 10, "c" * 10]


def test_damaged_entries_and_files_are_misses(tmp_path):
    cache = text_cache(tmp_path, max_bytes=mib(1))
    cache.put("k", "value")
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        db.execute("UPDATE entries SET body = ?", (b"\xff\xfe",))
    assert cache.get("k") is None
    (tmp_path / "junk.sqlite").write_bytes(b"not a database" * 100)
    junk = DiskCache(tmp_path / "junk.sqlite", max_bytes=mib(1), encode=str.encode, decode=bytes.decode)
    junk.put("k", "value")
    assert junk.get("k") is None


def test_writes_from_many_threads_are_whole(tmp_path):
    cache = text_cache(tmp_path, max_bytes=mib(1))
    threads = [threading.Thread(target=cache.put, args=(f"k{i}", f"v{i}" * 100)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(cache.get(f"k{i}") == f"v{i}" * 100 for i in range(16))


def test_a_disabled_cache_stores_nothing(tmp_path):
    cache = DiskCache(None, max_bytes=mib(1), encode=str.encode, decode=bytes.decode)
    cache.put("k", "value")
    assert cache.get("k") is None and cache.count() == 0 and not list(tmp_path.iterdir())

"""The page cache's TTL and the crawl's link filter, as plain objects."""

from __future__ import annotations

import sqlite3
import time

from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.crawler import CrawlOptions, LinkFilter
from memento_servers.crawl.models import Page


def page(url: str) -> Page:
    return Page(url=url, final_url=url, status=200, content_type="text/html", title="T", markdown="body",
                rendered_with="http", fetched_at="2026-01-01T00:00:00+00:00")


def test_cached_pages_come_back_until_they_expire(tmp_path):
    cache = PageCache(tmp_path, ttl_s=60)
    cache.put("http://a.test/", "auto", page("http://a.test/"))
    assert cache.get("http://a.test/", "auto").markdown == "body"
    assert cache.get("http://a.test/", "http") is None  # render mode is part of the key
    expired = PageCache(tmp_path, ttl_s=0.001)
    time.sleep(0.01)
    assert expired.get("http://a.test/", "auto") is None


def test_expired_entries_go_on_the_next_write_and_unreadable_entries_are_misses(tmp_path):
    cache = PageCache(tmp_path, ttl_s=60)
    cache.put("http://a.test/", "auto", page("http://a.test/"))
    with sqlite3.connect(cache.disk.path) as db:
        db.execute("UPDATE entries SET body = ?", (b"{not json",))
    assert cache.get("http://a.test/", "auto") is None
    with sqlite3.connect(cache.disk.path) as db:
        db.execute("UPDATE entries SET stored = stored - 120")
    cache.put("http://b.test/", "auto", page("http://b.test/"))
    assert cache.disk.count() == 1


def test_disabled_cache_stores_nothing(tmp_path):
    cache = PageCache(tmp_path, ttl_s=0)
    cache.put("http://a.test/", "auto", page("http://a.test/"))
    assert cache.get("http://a.test/", "auto") is None and not list(tmp_path.iterdir())


def test_link_filter_applies_domain_include_and_exclude():
    options = CrawlOptions(max_pages=5, max_depth=2, include=["*/docs/*"], exclude=["*.zip"])
    accepts = LinkFilter("https://www.site.test/docs/", options).accepts
    assert accepts("https://site.test/docs/intro")  # www. ignored
    assert not accepts("https://other.test/docs/intro")
    assert not accepts("https://site.test/blog/post")
    assert not accepts("https://site.test/docs/all.zip")
    anywhere = LinkFilter("https://site.test/", CrawlOptions(max_pages=5, max_depth=2, same_domain=False)).accepts
    assert anywhere("https://other.test/x")

"""The fallback chain, rate limiter, cache and URL keys as plain logic (backends faked in-process)."""

from __future__ import annotations

import pytest

from memento_servers.search.cache import ResultCache
from memento_servers.search.chain import SearchService, Slot, url_key
from memento_servers.search.ddg import DuckDuckGoBackend, normalise_ddgs
from memento_servers.search.errors import BackendRateLimited, BackendUnavailable, InvalidSearch
from memento_servers.search.models import Result
from memento_servers.search.ratelimit import RateLimiter

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted:
    """A backend returning fixed URLs, or raising the given error."""

    def __init__(self, name: str, urls: list[str], kind: str = "web", error: Exception | None = None):
        self.name, self.kind, self.urls, self.error, self.calls = name, kind, urls, error, 0

    async def search(self, query: str, max_results: int) -> list[Result]:
        self.calls += 1
        if self.error:
            raise self.error
        return [Result(title=u, url=u, snippet="", source=self.name, score=1.0) for u in self.urls[:max_results]]


def service(*backends, tmp_path, limiter=None) -> SearchService:
    slots = [Slot(b, limiter if b.kind == "web" else None) for b in backends]
    return SearchService(slots, ResultCache(tmp_path / "c.sqlite", 0), secrets=["s3cret"], max_wait_s=5)


async def test_failed_backend_falls_over_to_the_next_with_a_warning(tmp_path):
    down = Scripted("duckduckgo", [], error=BackendUnavailable("duckduckgo", "network error s3cret"))
    local = Scripted("local", ["local://c/1", "local://c/2"], kind="local")
    response = await service(down, local, tmp_path=tmp_path).search("q", 5)
    assert response.backend_used == ["local"] and len(response.results) == 2
    assert response.warnings == ["duckduckgo: network error ***; fell back to the next backend"]


async def test_every_backend_failing_gives_empty_results_and_warnings_not_an_error(tmp_path):
    a = Scripted("brave", [], error=BackendUnavailable("brave", "down"))
    b = Scripted("local", [], kind="local", error=BackendUnavailable("local", "corpus is empty"))
    response = await service(a, b, tmp_path=tmp_path).search("q", 5)
    assert response.results == [] and response.warnings[-1] == "no backend answered: the results are empty"


async def test_backend_argument_picks_one_configured_backend_and_reports_its_failure(tmp_path):
    web = Scripted("brave", ["https://a.example/"])
    local = Scripted("local", ["local://c/1"], kind="local")
    chain = service(web, local, tmp_path=tmp_path)
    assert (await chain.search("q", 5, backend="local")).backend_used == ["local"] and web.calls == 0
    with pytest.raises(InvalidSearch, match="not configured; choose one of brave, local"):
        await chain.search("q", 5, backend="serper")
    broken = service(Scripted("brave", [], error=BackendUnavailable("brave", "down")), tmp_path=tmp_path)
    with pytest.raises(InvalidSearch, match="brave: down. Omit `backend`"):
        await broken.search("q", 5, backend="brave")


async def test_a_429_puts_the_backend_on_cool_down_and_the_chain_skips_it(tmp_path):
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=5, clock=clock)
    limited = Scripted("serper", [], error=BackendRateLimited("serper", "rate limited (HTTP 429)", retry_after=20))
    local = Scripted("local", ["local://c/1"], kind="local")
    chain = service(limited, local, tmp_path=tmp_path, limiter=limiter)
    await chain.search("q", 5)
    second = await chain.search("q2", 5)
    assert limited.calls == 1 and "cooling down after a 429 for 20 more s" in second.warnings[0]
    status = chain.status().backends[0]
    assert not status.healthy and status.cooling_down_s == 20 and status.consecutive_failures == 1
    clock.now += 21
    await chain.search("q3", 5)
    assert limited.calls == 2


def test_rate_limiter_allows_a_burst_then_the_sustained_rate():
    clock = Clock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    limiter.tokens -= 3
    assert limiter.wait_needed() == pytest.approx(0.5)
    clock.now += 0.25
    assert limiter.available() == pytest.approx(0.5)
    clock.now += 100
    assert limiter.available() == 3


async def test_rate_limit_waits_longer_than_the_budget_skip_the_backend(tmp_path):
    clock = Clock()
    limiter = RateLimiter(rate=0.01, burst=1, clock=clock)
    web = Scripted("brave", ["https://a.example/"])
    chain = service(web, Scripted("local", ["local://c/1"], kind="local"), tmp_path=tmp_path, limiter=limiter)
    await chain.search("one", 5)
    response = await chain.search("two", 5)
    assert web.calls == 1 and "local rate limit" in response.warnings[0] and response.backend_used == ["local"]


def test_cache_entries_expire_after_their_ttl(tmp_path):
    clock = Clock()
    cache = ResultCache(tmp_path / "cache.sqlite", ttl_s=60, clock=clock)
    hit = [Result(title="t", url="https://a.example/", snippet="s", source="brave", score=1)]
    cache.put("brave", "Query  One", 5, hit)
    assert cache.get("brave", "query one", 5) == hit
    assert cache.get("brave", "query one", 6) is None and cache.get("serper", "query one", 5) is None
    clock.now += 61
    assert cache.get("brave", "query one", 5) is None


def test_url_keys_ignore_scheme_www_fragment_and_trailing_slash():
    assert url_key("https://www.Example.org/a/#top") == url_key("http://example.org/a")
    assert url_key("https://example.org/a?x=1") != url_key("https://example.org/a?x=2")


def test_ddgs_records_are_normalised():
    records = [
        {"title": "Python", "href": "https://python.org/", "body": "The <b>official</b> site"},
        {"title": "no link", "href": "", "body": "dropped"},
        {"title": "", "href": "https://docs.python.org/3/", "body": None},
    ]
    results = normalise_ddgs(records)
    assert [(r.title, r.url, r.snippet, r.source) for r in results] == [
        ("Python", "https://python.org/", "The official site", "duckduckgo"),
        ("https://docs.python.org/3/", "https://docs.python.org/3/", "", "duckduckgo"),
    ]
    assert results[0].score > results[1].score


async def test_ddgs_without_a_network_fails_as_unavailable(monkeypatch):
    monkeypatch.setenv("DDGS_PROXY", "http://127.0.0.1:9")  # a closed port: no request leaves the machine
    with pytest.raises(BackendUnavailable, match="duckduckgo"):
        await DuckDuckGoBackend(timeout_s=3).search("python asyncio", 5)


async def test_duplicates_within_one_backend_are_dropped_and_local_results_are_not_marked_cached(tmp_path):
    local = Scripted("local", ["local://c/1", "local://c/1/", "local://c/2"], kind="local")
    response = await service(local, tmp_path=tmp_path).search("q", 5)
    assert [r.url for r in response.results] == ["local://c/1", "local://c/2"] and not response.cached

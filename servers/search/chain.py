"""The fallback chain: rate limits, cache, failover with warnings, URL de-duplication, health.

    service = SearchService(backends, limits, cache)
    response = await service.search("lancedb hybrid search", 10)     # -> SearchResponse

Backends are tried in configured order until `max_results` distinct URLs are gathered. A
backend that fails, is cooling down after a 429, or would wait too long for its rate limiter
is skipped with a warning; the chain never fails as long as one backend answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from memento_servers.search.cache import ResultCache
from memento_servers.search.errors import BackendRateLimited, InvalidSearch, SearchError
from memento_servers.search.models import BackendStatus, Result, SearchResponse, StatusResponse
from memento_servers.search.ratelimit import RateLimiter
from memento_servers.search.webclient import redact

log = logging.getLogger(__name__)

DEFAULT_COOLDOWN_S = 30.0


class Backend(Protocol):
    """What every backend offers: a name, a kind (web or local) and one search call."""

    name: str
    kind: str

    async def search(self, query: str, max_results: int) -> list[Result]: ...


@dataclass
class Health:
    calls: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None


@dataclass
class Slot:
    """A configured backend with its limiter and health record."""

    backend: Backend
    limiter: RateLimiter | None
    health: Health = field(default_factory=Health)


def url_key(url: str) -> str:
    """A URL reduced for duplicate detection: scheme-less, lower-case host, no fragment or trailing slash."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return urlunsplit(("", host, parts.path.rstrip("/"), parts.query, ""))


class SearchService:
    """Runs queries along the configured chain of backends."""

    def __init__(self, slots: list[Slot], cache: ResultCache, secrets: list[str], max_wait_s: float):
        self.slots = {slot.backend.name: slot for slot in slots}
        self.chain = [slot.backend.name for slot in slots]
        self.cache = cache
        self.secrets = secrets
        self.max_wait_s = max_wait_s

    async def search(self, query: str, max_results: int, backend: str | None = None) -> SearchResponse:
        if backend is not None and backend not in self.slots:
            raise InvalidSearch(f"backend '{backend}' is not configured; choose one of {', '.join(self.chain)} or omit it")
        names = [backend] if backend else self.chain
        results: list[Result] = []
        seen: set[str] = set()
        used: list[str] = []
        warnings: list[str] = []
        web_from_cache: list[bool] = []
        for name in names:
            if len(results) >= max_results:
                break
            try:
                found, cached = await self._query(self.slots[name], query, max_results)
            except SearchError as exc:
                message = redact(str(exc), self.secrets)
                if backend:
                    raise InvalidSearch(f"{message}. Omit `backend` to use the fallback chain ({', '.join(self.chain)}).") from None
                warnings.append(f"{message}; fell back to the next backend" if name != names[-1] else message)
                continue
            if (notice := getattr(self.slots[name].backend, "notice", None)) and (text := notice()):
                warnings.append(text)  # e.g. the local corpus is still computing its vectors
            taken = []
            for result in found:
                key = url_key(result.url)
                if key not in seen and len(results) + len(taken) < max_results:
                    seen.add(key)
                    taken.append(result)
            if taken:
                used.append(name)
                results.extend(taken)
                if self.slots[name].backend.kind == "web":
                    web_from_cache.append(cached)
        if not used and warnings and len(warnings) == len(names):
            warnings.append("no backend answered: the results are empty")
        return SearchResponse(
            query=query, results=results, backend_used=used, warnings=warnings,
            cached=bool(web_from_cache) and all(web_from_cache),
        )

    async def _query(self, slot: Slot, query: str, max_results: int) -> tuple[list[Result], bool]:
        name = slot.backend.name
        if slot.backend.kind == "web":
            cached = self.cache.get(name, query, max_results)
            if cached is not None:
                return cached, True
        if slot.limiter is not None:
            if (left := slot.limiter.cooling_down()) > 0:
                raise BackendRateLimited(name, f"cooling down after a 429 for {left:.0f} more s")
            if (wait := slot.limiter.wait_needed()) > self.max_wait_s:
                raise BackendRateLimited(name, f"local rate limit: next request allowed in {wait:.1f} s")
            await slot.limiter.acquire()
        slot.health.calls += 1
        try:
            found = await slot.backend.search(query, max_results)
        except SearchError as exc:
            slot.health.consecutive_failures += 1
            slot.health.last_error = redact(str(exc), self.secrets)
            if isinstance(exc, BackendRateLimited) and slot.limiter is not None:
                slot.limiter.cool_down(exc.retry_after or DEFAULT_COOLDOWN_S)
            log.warning("%s", slot.health.last_error)
            raise
        slot.health.consecutive_failures = 0
        slot.health.last_error = None
        if slot.backend.kind == "web":
            self.cache.put(name, query, max_results, found)
        return found, False

    def status(self) -> StatusResponse:
        backends = []
        for name in self.chain:
            slot = self.slots[name]
            limiter = slot.limiter
            describe = getattr(slot.backend, "describe", None)
            backends.append(
                BackendStatus(
                    name=name,
                    kind=slot.backend.kind,
                    healthy=slot.health.consecutive_failures == 0,
                    last_error=slot.health.last_error,
                    consecutive_failures=slot.health.consecutive_failures,
                    calls=slot.health.calls,
                    tokens_available=limiter.available() if limiter else None,
                    cooling_down_s=round(limiter.cooling_down(), 1) if limiter else 0.0,
                    detail=describe() if describe else None,
                )
            )
        return StatusResponse(chain=self.chain, backends=backends, cache_entries=self.cache.count())

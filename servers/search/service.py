"""Builds the search service from settings: one backend object per configured name, in chain order."""

from __future__ import annotations

from memento_core import paths
from memento_core.embeddings import Embedder
from memento_core.errors import ConfigError
from memento_servers.search.cache import ResultCache
from memento_servers.search.chain import SearchService, Slot
from memento_servers.search.config import SearchSettings
from memento_servers.search.ddg import DuckDuckGoBackend
from memento_servers.search.engines import BraveEngine, SearxngEngine, SerperEngine, TavilyEngine
from memento_servers.search.local import LocalBackend, Retrieval
from memento_servers.search.ratelimit import RateLimiter
from memento_servers.search.store import ChunkStore
from memento_servers.search.webclient import JsonClient


def local_backend(settings: SearchSettings, embedder: Embedder | None = None) -> LocalBackend:
    retrieval = Retrieval(
        mode=settings.local_mode,
        fusion=settings.fusion,
        rrf_k=settings.rrf_k,
        fts_weight=settings.fts_weight,
        depth=settings.fusion_depth,
        feedback_weight=settings.feedback_weight,
        memory_bm25_max_chunks=settings.memory_bm25_max_chunks,
        snippet_chars=settings.snippet_chars,
    )
    store = ChunkStore(settings.index_dir, settings.corpus)
    return LocalBackend(store, embedder or settings.embedder(), retrieval, backfill=settings.backfill_in_server)


def _backend(name: str, settings: SearchSettings, client: JsonClient):
    if name == "local":
        return local_backend(settings)
    if name == "duckduckgo":
        return DuckDuckGoBackend(settings.timeout_s, region=settings.duckduckgo_region)
    if name == "searxng":
        if not settings.searxng_url:
            raise ConfigError("backend searxng needs searxng_url (MEMENTO_SEARCH_SEARXNG_URL or --searxng-url)")
        return SearxngEngine(settings.searxng_url, client)
    if name == "brave":
        return BraveEngine(settings.brave_url, client, settings.brave_api_key)
    if name == "tavily":
        return TavilyEngine(settings.tavily_url, client, settings.tavily_api_key)
    if name == "serper":
        return SerperEngine(settings.serper_url, client, settings.serper_api_key)
    raise ConfigError(f"unknown backend {name}")


def build_service(settings: SearchSettings) -> tuple[SearchService, JsonClient]:
    """The chain with its limiters and cache, and the HTTP client to close at shutdown."""
    client = JsonClient(
        timeout_s=settings.timeout_s, retries=settings.retries, backoff_s=settings.backoff_s, secrets=settings.secrets()
    )
    slots = []
    for name in settings.backends:
        backend = _backend(name, settings, client)
        limiter = RateLimiter(settings.rate_per_s, settings.rate_burst) if backend.kind == "web" else None
        slots.append(Slot(backend, limiter))
    cache = ResultCache(paths.cache_dir() / "search" / "results.sqlite", settings.cache_ttl_s)
    service = SearchService(slots, cache, settings.secrets(), max_wait_s=settings.timeout_s)
    return service, client

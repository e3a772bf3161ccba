"""Settings of memento-search (env `MEMENTO_SEARCH_*`, TOML `[search]`), read once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from memento_core import paths
from memento_core.embeddings import DEFAULT_BACKEND, DEFAULT_MODEL, Embedder, EmbeddingBackend
from memento_core.settings import ServerSettings

BackendName = Literal["local", "searxng", "duckduckgo", "brave", "tavily", "serper"]
BACKEND_NAMES: tuple[str, ...] = ("local", "searxng", "duckduckgo", "brave", "tavily", "serper")
LocalMode = Literal["hybrid", "fts", "vector"]
Fusion = Literal["minmax", "rrf"]


def default_index_dir() -> Path:
    return paths.data_dir() / "search"


class SearchSettings(ServerSettings):
    """Settings of memento-search: the backend chain, engine endpoints and keys, limits, the local index."""

    backends: list[BackendName] = Field(
        default_factory=lambda: ["duckduckgo", "local"],
        description="Backends tried in order (comma-separated in env); the model may only pick among these.",
        json_schema_extra={"cli": "--backend"},
    )
    # engine endpoints: fixed by configuration, never chosen by the model
    searxng_url: str | None = Field(None, description="Base URL of a SearXNG instance (its /search must allow format=json).")
    brave_url: str = Field("https://api.search.brave.com/res/v1/web/search", description="Brave Search API endpoint.")
    tavily_url: str = Field("https://api.tavily.com/search", description="Tavily search API endpoint.")
    serper_url: str = Field("https://google.serper.dev/search", description="Serper (Google) search API endpoint.")
    brave_api_key: SecretStr | None = Field(None, description="Brave Search API key (X-Subscription-Token).")
    tavily_api_key: SecretStr | None = Field(None, description="Tavily API key.")
    serper_api_key: SecretStr | None = Field(None, description="Serper API key (X-API-KEY).")
    duckduckgo_region: str = Field("us-en", description="Region of the key-free ddgs web search, e.g. us-en, uk-en, de-de.")
    # resilience
    timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one request to one backend, in seconds.")
    retries: int = Field(2, ge=0, le=10, description="Retries of a web backend after a 429, a 5xx or a network error.")
    backoff_s: float = Field(0.5, ge=0, le=60, description="First retry delay; doubles per retry (Retry-After wins, capped).")
    rate_per_s: float = Field(1.0, gt=0, description="Sustained requests per second allowed to each web backend.")
    rate_burst: int = Field(3, ge=1, description="Requests a web backend may receive in a burst.")
    cache_ttl_s: float = Field(3600.0, ge=0, description="How long web results stay in the on-disk cache (0: no cache).")
    max_query_chars: int = Field(500, ge=10, le=10_000, description="Longest accepted query.")
    # local corpus
    index_dir: Path = Field(
        default_factory=default_index_dir,
        description="Folder of the local LanceDB index.",
        json_schema_extra={"cli": "--index"},
    )
    corpus: str = Field("default", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Name of the local corpus (one table per corpus).")
    local_mode: LocalMode = Field("hybrid", description="Local retrieval: hybrid (BM25 + vectors), fts (BM25) or vector.")
    fusion: Fusion = Field("minmax", description="How hybrid fuses BM25 and vectors: minmax (normalised scores) or rrf (ranks).")
    embedding_model: str = Field(DEFAULT_MODEL, description="sentence-transformers model for local vectors (offline).")
    embedding_backend: EmbeddingBackend = Field(
        DEFAULT_BACKEND, description="Backend that embeds passages in bulk: onnx, onnx-int8, torch or static (see README)."
    )
    query_backend: EmbeddingBackend | None = Field(
        None, description="Backend that embeds queries (default: the bulk one); must make vectors of the same space."
    )
    embed_threads: int = Field(0, ge=0, le=64, description="Threads for bulk embedding (0: every core); queries use one.")
    backfill_in_server: bool = Field(
        True, description="The server computes vectors that an interrupted or --bm25-only `index` left pending."
    )
    rrf_k: int = Field(60, ge=1, description="RRF constant k (fusion rrf).")
    fts_weight: float = Field(1.25, ge=0, description="Weight of the BM25 ranking in the fusion (vectors weigh 1).")
    feedback_weight: float = Field(
        0.0, ge=0, le=10, description="Weight of the pseudo-relevance-feedback (RM3) BM25 ranking in minmax fusion; 0 (default) turns it off."
    )
    memory_bm25_max_chunks: int = Field(
        200_000,
        ge=0,
        description="Largest corpus (in chunks) ranked by an in-memory BM25 index (fast; ~1 MB per 1,000 chunks); "
        "a larger one is ranked by LanceDB's index on disk, without feedback.",
    )
    fusion_depth: int = Field(20, ge=1, le=1000, description="Candidates taken from each ranking before fusion.")
    chunk_chars: int = Field(2000, ge=200, description="Longest chunk of an indexed document, in characters.")
    chunk_overlap: int = Field(200, ge=0, description="Characters repeated between consecutive chunks.")
    snippet_chars: int = Field(600, ge=50, le=10_000, description="Longest snippet of a local result, in characters.")
    max_file_mb: float = Field(50.0, gt=0, description="Largest file the indexer converts, in MiB.")

    @field_validator("backends")
    @classmethod
    def _non_empty_unique(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one backend")
        return list(dict.fromkeys(value))

    def embedder(self) -> Embedder:
        """The embedder the settings describe (models load on first use)."""
        return Embedder(self.embedding_model, self.embedding_backend, self.query_backend, threads=self.embed_threads)

    def secrets(self) -> list[str]:
        """Every configured secret value, for redaction."""
        keys = (self.brave_api_key, self.tavily_api_key, self.serper_api_key, self.token)
        return [key.get_secret_value() for key in keys if key is not None and key.get_secret_value()]

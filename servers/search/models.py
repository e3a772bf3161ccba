"""The result shapes every backend is normalised to, and what the tools return."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Result(BaseModel):
    """One search hit, whatever backend produced it."""

    title: str = Field(description="Title of the page or document.")
    url: str = Field(description="Address of the hit; local documents have a file:// or local:// address.")
    snippet: str = Field(description="Text of the hit: the engine's snippet, or the matching passage of a local document.")
    source: str = Field(description="Backend that found it: local, searxng, duckduckgo, brave, tavily or serper.")
    score: float = Field(description="The backend's relevance score; higher is better, comparable only within one source.")
    id: str | None = Field(None, description="Local corpus only: the document id.")
    chunk: int | None = Field(None, description="Local corpus only: which part of a long document matched (0-based).")


class SearchResponse(BaseModel):
    """What `search` returns."""

    query: str
    results: list[Result]
    backend_used: list[str] = Field(description="Backends whose results are included, in chain order.")
    warnings: list[str] = Field(default_factory=list, description="Failovers, skipped backends, cut queries.")
    cached: bool = Field(False, description="True when every web result came from the on-disk cache.")


class BackendStatus(BaseModel):
    """Health and rate-limit state of one configured backend."""

    name: str
    kind: str = Field(description="web or local.")
    healthy: bool = Field(description="False after the last call failed (it is still tried again).")
    last_error: str | None = None
    consecutive_failures: int = 0
    calls: int = 0
    tokens_available: float | None = Field(None, description="Rate limiter: requests that may start now without waiting.")
    cooling_down_s: float = Field(0.0, description="Seconds until a backend that answered 429 is tried again.")
    detail: str | None = Field(None, description="E.g. the local index's corpus and size.")


class StatusResponse(BaseModel):
    """What `search_status` returns."""

    chain: list[str] = Field(description="Configured backends, in the order they are tried.")
    backends: list[BackendStatus]
    cache_entries: int

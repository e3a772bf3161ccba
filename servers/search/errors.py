"""Errors of memento-search. Backend errors never reach the model directly: the chain turns
them into warnings (or an `InvalidSearch` when the model named that backend).

    MementoError (memento_core)
    ├── InvalidSearch          the request cannot be served as asked: empty query, unknown backend
    └── SearchError            a backend could not answer; the message is free of secrets
        ├── BackendUnavailable network failure, timeout, missing key or empty local index
        ├── BackendRateLimited the engine answered 429 (after retries); `retry_after` seconds
        └── BadResponse        an HTTP error status or a body that is not the engine's format
    └── IndexingError          `memento-search index` cannot read a path or a JSONL line
"""

from __future__ import annotations

from memento_core.errors import MementoError


class InvalidSearch(MementoError):
    """The request cannot be served as asked; the message says what to change."""


class SearchError(MementoError):
    """A backend failed; `backend` names it."""

    def __init__(self, backend: str, message: str):
        super().__init__(f"{backend}: {message}")
        self.backend = backend


class BackendUnavailable(SearchError):
    """The backend cannot be reached or is not usable (no key, no index)."""


class BackendRateLimited(SearchError):
    """The engine refused with 429 after the configured retries."""

    def __init__(self, backend: str, message: str, retry_after: float | None = None):
        super().__init__(backend, message)
        self.retry_after = retry_after


class BadResponse(SearchError):
    """The engine answered with an error status or malformed data."""


class IndexingError(MementoError):
    """A path or record given to the indexer cannot be indexed; the message says which and why."""

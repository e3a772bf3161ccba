"""Errors of memento-crawl; each reaches the model as an `isError` result it can act on.

    MementoError (memento_core)
    ├── FetchError (memento_core)  the fetcher refused or failed a URL
    └── CrawlError                 a page could not be rendered, converted or sliced as asked
"""

from __future__ import annotations

from memento_core.errors import MementoError


class CrawlError(MementoError):
    """A page could not be loaded or read as asked; the message says why and what to try."""

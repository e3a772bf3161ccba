"""The key-free web backend: the `ddgs` metasearch package (DuckDuckGo, Bing, Brave, ... pages).

`ddgs` brings its own blocking HTTP client, so it runs in a worker thread under a deadline;
its records (`title`, `href`, `body`) are normalised like every other engine's.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from memento_servers.search.engines import normalise
from memento_servers.search.errors import BackendRateLimited, BackendUnavailable
from memento_servers.search.models import Result

log = logging.getLogger(__name__)

NO_RESULTS = "No results found"


def normalise_ddgs(records: list[dict[str, Any]]) -> list[Result]:
    """Results from `DDGS().text(...)` records."""
    return normalise("duckduckgo", records, url="href", title="title", snippet="body")


class DuckDuckGoBackend:
    """Web search without a key through `ddgs` (`region` and engine list from settings)."""

    name = "duckduckgo"
    kind = "web"

    def __init__(self, timeout_s: float, region: str = "us-en", engines: str = "auto"):
        self.timeout_s = timeout_s
        self.region = region
        self.engines = engines
        logging.getLogger("ddgs").setLevel(logging.WARNING)  # it logs every failing engine at INFO

    def _search_blocking(self, query: str, max_results: int) -> list[dict[str, Any]]:
        from ddgs import DDGS
        from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

        try:
            return DDGS(timeout=max(1, round(self.timeout_s))).text(
                query, region=self.region, max_results=max_results, backend=self.engines
            )
        except RatelimitException:
            raise BackendRateLimited(self.name, "rate limited by the upstream engines") from None
        except TimeoutException:
            raise BackendUnavailable(self.name, f"timed out after {self.timeout_s:g} s") from None
        except DDGSException as exc:
            if NO_RESULTS in str(exc):
                return []
            raise BackendUnavailable(self.name, f"no engine answered ({_short(exc)})") from None

    async def search(self, query: str, max_results: int) -> list[Result]:
        deadline = self.timeout_s * 2 + 1  # ddgs applies its timeout per engine round
        try:
            with anyio.fail_after(deadline):
                records = await anyio.to_thread.run_sync(
                    self._search_blocking, query, max_results, abandon_on_cancel=True
                )
        except TimeoutError:
            raise BackendUnavailable(self.name, f"timed out after {deadline:g} s") from None
        return normalise_ddgs(records)[:max_results]


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:160] + ("..." if len(text) > 160 else "")

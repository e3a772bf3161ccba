"""The keyed and self-hosted web engines: each builds its documented request and normalises its response.

    SearXNG  GET  {url}/search?q=..&format=json        -> {"results": [{"title", "url", "content", "score"}]}
    Brave    GET  {url}?q=..&count=N, X-Subscription-Token -> {"web": {"results": [{"title", "url", "description"}]}}
    Tavily   POST {url} {"query", "max_results"}, Bearer key -> {"results": [{"title", "url", "content", "score"}]}
    Serper   POST {url} {"q", "num"}, X-API-KEY           -> {"organic": [{"title", "link", "snippet", "position"}]}
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from memento_servers.search.errors import BackendUnavailable, BadResponse
from memento_servers.search.models import Result
from memento_servers.search.webclient import JsonClient

TAGS = re.compile(r"<[^>]+>")


def clean_text(value: Any) -> str:
    """Engine text without markup (Brave marks matches with <strong>) and with collapsed spaces."""
    return " ".join(TAGS.sub("", str(value or "")).split())


def _rank_score(position: int) -> float:
    return round(1.0 / (1 + position), 6)


def _records(backend: str, data: Any, *path: str) -> list[dict[str, Any]]:
    """The list found at `path` in `data`; a missing list means no results, a wrong type is malformed."""
    node = data
    for key in path:
        if not isinstance(node, dict):
            raise BadResponse(backend, f"unexpected response shape (no object holding '{key}')")
        node = node.get(key)
        if node is None:
            return []
    if not isinstance(node, list):
        raise BadResponse(backend, f"unexpected response shape ('{path[-1]}' is not a list)")
    return [item for item in node if isinstance(item, dict)]


def normalise(
    backend: str, records: list[dict[str, Any]], *, url: str, title: str, snippet: str, score: str | None = None
) -> list[Result]:
    """Results from engine records, given the engine's field names; records without a URL are dropped."""
    results = []
    for position, record in enumerate(records):
        address = str(record.get(url) or "").strip()
        if not address.startswith(("http://", "https://")):
            continue
        raw_score = record.get(score) if score else None
        value = float(raw_score) if isinstance(raw_score, (int, float)) else _rank_score(position)
        results.append(
            Result(
                title=clean_text(record.get(title)) or address,
                url=address,
                snippet=clean_text(record.get(snippet)),
                source=backend,
                score=value,
            )
        )
    return results


class WebEngine:
    """Base of the HTTP engines: a name, a fixed endpoint and the shared JSON client."""

    name = ""
    kind = "web"

    def __init__(self, endpoint: str, client: JsonClient, key: SecretStr | None = None):
        self.endpoint = endpoint
        self.client = client
        self.key = key

    def _key(self) -> str:
        if self.key is None or not self.key.get_secret_value():
            raise BackendUnavailable(self.name, f"no API key configured (set MEMENTO_SEARCH_{self.name.upper()}_API_KEY)")
        return self.key.get_secret_value()


class SearxngEngine(WebEngine):
    name = "searxng"

    async def search(self, query: str, max_results: int) -> list[Result]:
        url = self.endpoint.rstrip("/") + "/search"
        data = await self.client.request(self.name, "GET", url, params={"q": query, "format": "json"})
        records = _records(self.name, data, "results")
        return normalise(self.name, records, url="url", title="title", snippet="content", score="score")[:max_results]


class BraveEngine(WebEngine):
    name = "brave"

    async def search(self, query: str, max_results: int) -> list[Result]:
        headers = {"Accept": "application/json", "X-Subscription-Token": self._key()}
        params = {"q": query, "count": min(max_results, 20)}
        data = await self.client.request(self.name, "GET", self.endpoint, params=params, headers=headers)
        records = _records(self.name, data, "web", "results")
        return normalise(self.name, records, url="url", title="title", snippet="description")[:max_results]


class TavilyEngine(WebEngine):
    name = "tavily"

    async def search(self, query: str, max_results: int) -> list[Result]:
        headers = {"Authorization": f"Bearer {self._key()}"}
        body = {"query": query, "max_results": min(max_results, 20), "search_depth": "basic"}
        data = await self.client.request(self.name, "POST", self.endpoint, json=body, headers=headers)
        records = _records(self.name, data, "results")
        return normalise(self.name, records, url="url", title="title", snippet="content", score="score")[:max_results]


class SerperEngine(WebEngine):
    name = "serper"

    async def search(self, query: str, max_results: int) -> list[Result]:
        headers = {"X-API-KEY": self._key()}
        body = {"q": query, "num": min(max_results, 100)}
        data = await self.client.request(self.name, "POST", self.endpoint, json=body, headers=headers)
        records = _records(self.name, data, "organic")
        return normalise(self.name, records, url="link", title="title", snippet="snippet")[:max_results]

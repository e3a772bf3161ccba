"""One JSON request to a configured engine endpoint, with retries, backoff and secret-free errors.

The endpoints come from settings only (the model never supplies an address), so plain httpx is
used here rather than the SSRF-guarded fetcher: operators may legitimately point `searxng_url`
at a SearXNG on localhost, which the guarded fetcher would refuse by design.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import anyio
import httpx

from memento_servers.search.errors import BackendRateLimited, BackendUnavailable, BadResponse

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 30.0


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by '***'."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


class JsonClient:
    """Sends one engine request and returns its decoded JSON, retrying 429/5xx and network errors."""

    def __init__(self, *, timeout_s: float, retries: int, backoff_s: float, secrets: Iterable[str]):
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.secrets = tuple(secrets)
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.timeout_s, follow_redirects=False, headers={"User-Agent": "memento-search"}
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def request(self, backend: str, method: str, url: str, **kwargs: Any) -> Any:
        """Decoded JSON of the response; raises a `SearchError` subclass with a redacted message."""
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = await self._http().request(method, url, **kwargs)
            except httpx.TimeoutException:
                failure: Exception = BackendUnavailable(backend, f"timed out after {self.timeout_s:g} s")
            except httpx.HTTPError as exc:
                failure = BackendUnavailable(backend, self._clean(f"network error ({type(exc).__name__}: {exc})"))
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._decode(backend, response)
                wait = _retry_after(response)
                failure = self._status_error(backend, response, wait)
                if wait is not None:
                    delay = max(delay, wait)
            if last:
                raise failure
            log.info("%s: %s; retry %d in %.2f s", backend, failure, attempt + 1, delay)
            await anyio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets)

    def _status_error(self, backend: str, response: httpx.Response, wait: float | None) -> Exception:
        if response.status_code == 429:
            return BackendRateLimited(backend, "rate limited (HTTP 429)", retry_after=wait)
        return BackendUnavailable(backend, f"server error (HTTP {response.status_code})")

    def _decode(self, backend: str, response: httpx.Response) -> Any:
        if response.status_code in (401, 403):
            raise BadResponse(backend, f"refused (HTTP {response.status_code}): check the API key or instance settings")
        if response.status_code >= 400:
            raise BadResponse(backend, f"HTTP {response.status_code}: {self._clean(response.text[:200])}")
        try:
            return response.json()
        except ValueError:
            raise BadResponse(backend, "the response is not JSON") from None

"""The one SSRF-safe HTTP fetcher every memento server uses for URLs it did not choose.

    result = await Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])).fetch("http://127.0.0.1:8000/a")

- Only http and https. Redirects are followed here, hop by hop, each hop re-checked.
- Every TCP connection goes through `GuardedBackend`: the host is resolved once, every
  address is vetted by `netguard.AddressGuard`, and the socket connects to the vetted IP
  itself, so a second DNS answer (DNS rebinding) can never redirect it. TLS still
  verifies the certificate against the URL's host name.
- The body is read as a stream, decoded here in bounded pieces (`decoding.BodyDecoder`: gzip,
  deflate, br, zstd, stacked) and cut off once the DECODED bytes pass `max_bytes`, so a
  compression bomb costs at most about `max_bytes` of memory; connect, read and total timeouts apply.
- Optionally, robots.txt is respected (fetched with its own timeout; a 4xx means "no rules",
  a 5xx or an unreachable robots.txt means "disallowed", as RFC 9309 says).
- Every refusal and failure raises `FetchError` with a `kind` and a message for the model:
  invalid_url, blocked, dns, connect, tls, timeout, redirects, too_large, encoding, http_status, robots,
  network.
"""

from __future__ import annotations

import logging
import ssl
import time
import urllib.robotparser
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpcore
import httpx

from memento_core.decoding import ACCEPT_ENCODING, BodyDecoder
from memento_core.errors import FetchError
from memento_core.netguard import AddressGuard, Resolver
from memento_core.version import package_version

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ROBOTS_MAX_BYTES = 512_000
ROBOTS_TTL_S = 3600.0


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may reach and how long and how much it may read.

    A server exposes these as settings, e.g. `allow_hosts: list[str]` with
    `json_schema_extra={"cli": "--allow-host"}` so users write `--allow-host 127.0.0.1`
    (repeatable) or `MEMENTO_CRAWL_ALLOW_HOSTS=127.0.0.1,intranet.local`.

    allow_hosts: host names (`intranet.local`, `*.corp.example`) and IPs/CIDRs (`127.0.0.1`,
        `10.0.0.0/8`) that may be fetched although non-public. Empty: public addresses only.
    max_bytes: largest body read (decoded); larger responses fail with kind "too_large".
    timeout_s: the whole fetch, redirects and robots.txt included.
    connect_timeout_s / read_timeout_s: per connection attempt / per read.
    max_redirects: hops followed before failing with kind "redirects".
    respect_robots: refuse URLs the site's robots.txt disallows for `user_agent`.
    robots_timeout_s: budget for fetching one robots.txt.
    limit_setting: the server's flag for `max_bytes`, named when a body is too large (`--max-fetch-mb`).
    """

    allow_hosts: tuple[str, ...] | list[str] = ()
    max_bytes: int = 10_000_000
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0
    max_redirects: int = 5
    user_agent: str = f"memento-agent/{package_version()}"
    respect_robots: bool = False
    robots_timeout_s: float = 5.0
    limit_setting: str = ""


    @property
    def scope(self) -> str:
        """What decides which URLs may be fetched: pages cached under one scope must not be served under another."""
        allow = sorted({entry.strip().lower() for entry in self.allow_hosts if entry.strip()})
        return f"allow={','.join(allow)};robots={self.respect_robots};agent={self.user_agent}"


@dataclass(frozen=True)
class FetchResult:
    """A fetched response. `content` is the decoded body (no content-encoding left)."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]  # lowercased names; repeated headers joined with ", "
    content: bytes
    content_type: str  # media type only, lowercased: "text/html"
    redirects: list[str] = field(default_factory=list)  # every hop after `url`, in order

    @property
    def charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None

    def text(self) -> str:
        """The body as text: the declared charset, else UTF-8 (undecodable bytes replaced)."""
        try:
            return self.content.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with every TCP connect resolved, vetted and pinned to the vetted IP."""

    def __init__(self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None):
        self.guard = guard
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self.guard.resolve(host, port)
        failure: Exception | None = None
        for ip in addresses:
            try:
                return await self.inner.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> Any:
        raise FetchError("unix sockets are never fetched", kind="blocked")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a `GuardedBackend` (no proxies: they would connect on our behalf)."""

    def __init__(self, guard: AddressGuard):
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=50,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(guard),
        )


def check_url(url: str | httpx.URL) -> httpx.URL:
    """`url` parsed, if it is an absolute http(s) URL with a host; else a FetchError."""
    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"invalid URL {str(url)[:200]!r}: {exc}", kind="invalid_url") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(
            f"only http:// and https:// URLs can be fetched, not {parsed.scheme or 'a relative URL'}: {str(url)[:200]}",
            kind="invalid_url",
        )
    if not parsed.host:
        raise FetchError(f"URL has no host: {str(url)[:200]}", kind="invalid_url")
    return parsed


def _is_tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in str(seen) or "CERTIFICATE" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _as_fetch_error(exc: httpx.HTTPError, url: httpx.URL) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError(f"timed out fetching {url} ({type(exc).__name__})", kind="timeout")
    if isinstance(exc, httpx.ConnectError):
        if _is_tls_failure(exc):
            return FetchError(f"TLS failure with {url.host}: {exc}", kind="tls")
        return FetchError(f"cannot connect to {url.host}:{url.port or ''}: {exc}", kind="connect")
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return FetchError(f"invalid URL {url}: {exc}", kind="invalid_url")
    return FetchError(f"network error fetching {url}: {type(exc).__name__}: {exc}", kind="network")


class Fetcher:
    """Fetches URLs under a `FetchPolicy`. Reuse one per server (it pools connections); `aclose()` at the end.

    `resolver` replaces the system DNS lookup (tests use it to give names private or public addresses).
    """

    def __init__(self, policy: FetchPolicy | None = None, *, resolver: Resolver | None = None):
        self.policy = policy or FetchPolicy()
        self.guard = AddressGuard.from_allowlist(self.policy.allow_hosts, resolver)
        self._client: httpx.AsyncClient | None = None
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            p = self.policy
            self._client = httpx.AsyncClient(
                transport=GuardedTransport(self.guard),
                timeout=httpx.Timeout(p.read_timeout_s, connect=p.connect_timeout_s),
                follow_redirects=False,
                trust_env=False,
                headers={
                    "User-Agent": p.user_agent,
                    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def fetch(
        self, url: str, *, headers: Mapping[str, str] | None = None, raise_for_status: bool = True,
        respect_robots: bool | None = None,
    ) -> FetchResult:
        """GET `url` under the policy. With `raise_for_status`, a 4xx/5xx raises FetchError(kind="http_status").
        `respect_robots` overrides the policy's for this call (the caller decides who may)."""
        robots = self._robots_apply(respect_robots)
        try:
            with anyio.fail_after(self.policy.timeout_s):
                result = await self._follow(check_url(url), headers or {}, self.policy.max_bytes, robots=robots)
        except TimeoutError as exc:
            raise FetchError(f"timed out after {self.policy.timeout_s:g} s fetching {url}", kind="timeout") from exc
        if raise_for_status and result.status >= 400:
            raise FetchError(
                f"HTTP {result.status} from {result.final_url}"
                + (" (the page does not exist)" if result.status in (404, 410) else ""),
                kind="http_status",
                status=result.status,
            )
        return result

    async def admit(self, url: str, respect_robots: bool | None = None) -> None:
        """Raise the refusal `fetch(url, respect_robots=...)` would raise before any request (URL, address policy,
        robots.txt).

        Callers serving an earlier response for `url` (a cache) call it first, so the policy of now applies.
        """
        parsed = check_url(url)
        try:
            with anyio.fail_after(self.policy.timeout_s):
                await self.guard.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
                if self._robots_apply(respect_robots):
                    await self._check_robots(parsed)
        except TimeoutError as exc:
            raise FetchError(f"timed out after {self.policy.timeout_s:g} s checking {url}", kind="timeout") from exc

    async def _follow(
        self, url: httpx.URL, headers: Mapping[str, str], max_bytes: int, *, robots: bool
    ) -> FetchResult:
        start, redirects = url, []
        while True:
            if robots:
                await self._check_robots(url)
            status, response_headers, content = await self._get(url, headers, max_bytes)
            location = response_headers.get("location")
            if status in REDIRECT_STATUSES and location:
                if len(redirects) >= self.policy.max_redirects:
                    raise FetchError(
                        f"too many redirects (more than {self.policy.max_redirects}) starting at {start}",
                        kind="redirects",
                    )
                url = check_url(url.join(location))
                redirects.append(str(url))
                continue
            media_type = response_headers.get("content-type", "").split(";")[0].strip().lower()
            return FetchResult(str(start), str(url), status, response_headers, content, media_type, redirects)

    def _robots_apply(self, respect_robots: bool | None) -> bool:
        return self.policy.respect_robots if respect_robots is None else respect_robots

    async def _get(self, url: httpx.URL, headers: Mapping[str, str], max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        try:
            async with self.client.stream("GET", url, headers=headers) as response:
                response_headers = {k.lower(): ", ".join(response.headers.get_list(k)) for k in response.headers}
                if response.status_code in REDIRECT_STATUSES:
                    return response.status_code, response_headers, b""
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise self._too_large(url, max_bytes)
                body = BodyDecoder(
                    response.headers.get("content-encoding", ""), max_bytes=max_bytes, url=str(url),
                    too_large=lambda: self._too_large(url, max_bytes),
                )
                received = 0
                async for raw in response.aiter_raw():  # decoded here, bounded, not by httpx
                    received += len(raw)
                    if received > max_bytes:
                        raise self._too_large(url, max_bytes)
                    body.feed(raw)
                return response.status_code, response_headers, body.finish()
        except httpx.HTTPError as exc:
            raise _as_fetch_error(exc, url) from exc

    def _too_large(self, url: httpx.URL, max_bytes: int) -> FetchError:
        setting = self.policy.limit_setting
        how = f"raise it with {setting}" if setting else "the server's operator can raise it"
        return FetchError(
            f"response from {url} is larger than the {max_bytes:,}-byte limit (counted after decompression); {how}",
            kind="too_large",
        )

    async def _check_robots(self, url: httpx.URL) -> None:
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() - cached[0] > ROBOTS_TTL_S:
            cached = (time.monotonic(), await self._load_robots(origin))
            self._robots[origin] = cached
        rules = cached[1]
        if rules is None:
            raise FetchError(
                f"robots.txt of {origin} could not be read (server error or unreachable), so crawling is not allowed",
                kind="robots",
            )
        if not rules.can_fetch(self.policy.user_agent, str(url)):
            raise FetchError(f"robots.txt of {origin} disallows {url}", kind="robots")

    async def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        """Parsed rules; an empty rule set for a 4xx; None (disallow all) for a 5xx or any failure."""
        rules = urllib.robotparser.RobotFileParser()
        try:
            with anyio.fail_after(self.policy.robots_timeout_s):
                result = await self._follow(check_url(origin + "/robots.txt"), {}, ROBOTS_MAX_BYTES, robots=False)
        except FetchError as exc:
            if exc.kind == "blocked":
                raise  # the site itself is off limits: say so, not that its robots.txt is unreadable
            log.info("robots.txt of %s unavailable: %s", origin, exc)
            return None
        except TimeoutError:
            log.info("robots.txt of %s timed out", origin)
            return None
        if result.status >= 500:
            return None
        rules.parse([] if result.status >= 400 else result.text().splitlines())
        return rules

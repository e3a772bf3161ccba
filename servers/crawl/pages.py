"""From a URL to a `Page`: cache, SSRF-safe fetch, browser when needed, extraction or document conversion.

HTML extraction and documents (PDF, office files) run in killable worker processes (`WorkerPool`,
`operations.py`) under size, time and memory limits: a worker past its time is killed and replaced,
so nothing of a page past its limit keeps burning CPU or memory.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from memento_core.fetch import Fetcher, FetchResult
from memento_core.workers import WorkerErrors, WorkerPool
from memento_servers.crawl.browser import Browser
from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.errors import CrawlError
from memento_servers.crawl.extract import Extracted, Link
from memento_servers.crawl.models import Page, PageLink, Render, RenderedWith
from memento_servers.documents.convert import DocumentError, Limits, detect_format
from memento_servers.documents.model import Document

log = logging.getLogger(__name__)

REFUSED_FORMATS = {"image": "an image"}


class PageLoader:
    """Loads pages for the tools; one per server, shared by fetch_page and crawl_site; `close` stops its workers."""

    def __init__(
        self, fetcher: Fetcher, browser: Browser | None, cache: PageCache, *, max_bytes: int, convert_timeout_s: float
    ):
        self.fetcher = fetcher
        self.browser = browser
        self.cache = cache
        self.limits = Limits(max_bytes=max_bytes)
        self.workers = WorkerPool(
            "memento_servers.crawl.operations", WorkerErrors(DocumentError, CrawlError, CrawlError),
            timeout_s=convert_timeout_s, advice="raise --convert-timeout-s",
        )

    def start(self) -> None:
        """Warm one worker in the background (the first page would otherwise wait for its imports)."""
        self.workers.start()

    def close(self) -> None:
        self.workers.close()

    async def _extract(self, what: str, markup: bytes | str, url: str) -> Extracted:
        """HTML extraction in a worker, killed past the time limit."""
        args = {"url": url, "text": markup} if isinstance(markup, str) else {"url": url}  # text: as decoded by the browser
        _, data = await self.workers.call("extract_html", args, markup if isinstance(markup, bytes) else b"", what=what)
        fields = json.loads(data)
        return Extracted(**{**fields, "links": [Link(**link) for link in fields["links"]]})

    async def load(self, url: str, render: Render = "auto", respect_robots: bool | None = None) -> tuple[Page, bool]:
        """The page at `url` and whether it came from the cache (served only if the policy admits it now);
        `respect_robots` overrides the policy's for this load."""
        await self.fetcher.admit(url, respect_robots)
        cached = self.cache.get(url, render)
        if cached is not None:
            if cached.final_url != url:
                await self.fetcher.admit(cached.final_url, respect_robots)
            return cached, True
        page = await self._fetch(url, render, respect_robots)
        self.cache.put(url, render, page)
        return page, False

    async def _fetch(self, url: str, render: Render, respect_robots: bool | None) -> Page:
        if render == "browser" and self.browser is None:
            raise CrawlError("the browser is disabled on this server (--no-browser); use render='http' or 'auto'")
        response = await self.fetcher.fetch(url, respect_robots=respect_robots)
        fmt = _format_of(response)
        if fmt == "html":
            return await self._html_page(response, render)
        if fmt in ("text", "markdown"):
            return _page(response, "text", title=None, markdown=response.text().strip())
        if fmt in REFUSED_FORMATS:
            raise CrawlError(
                f"{response.final_url} is {REFUSED_FORMATS[fmt]} ({response.content_type}); fetch_page reads text, "
                "HTML and documents (PDF, office, data files) only"
            )
        return await self._document_page(response)

    async def _html_page(self, response: FetchResult, render: Render) -> Page:
        extracted = await self._extract("extracting the page", response.content, response.final_url)
        wants_browser = render == "browser" or (render == "auto" and extracted.needs_javascript)
        if not wants_browser or self.browser is None:
            return _page_from_html(response, extracted, "http")
        html, status = await self.browser.render(response)
        rendered = await self._extract("extracting the rendered page", html, response.final_url)
        if render == "auto" and len(rendered.markdown) <= len(extracted.markdown):
            return _page_from_html(response, extracted, "http")  # the browser found nothing more
        return _page_from_html(response, rendered, "browser", status=status)

    async def _document_page(self, response: FetchResult) -> Page:
        args = {
            "filename": _filename(response.final_url),
            "content_type": response.headers.get("content-type"),
            "url": response.final_url,
            "limits": self.limits.model_dump(),
        }
        try:
            _, data = await self.workers.call("convert", args, response.content, what="converting the document")
        except DocumentError as exc:
            raise CrawlError(f"cannot convert {response.final_url} ({response.content_type}): {exc}") from exc
        document = Document.model_validate_json(data)
        return _page(response, "document", title=document.title, markdown=document.markdown.strip())


def _format_of(response: FetchResult) -> str:
    try:
        return detect_format(response.content, _filename(response.final_url), response.headers.get("content-type"))
    except DocumentError as exc:
        raise CrawlError(f"{response.final_url} has a type fetch_page cannot read ({response.content_type}): {exc}") from exc


def _filename(url: str) -> str | None:
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    return name or None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _page(response: FetchResult, rendered_with: RenderedWith, *, title: str | None, markdown: str,
          links: list[PageLink] | None = None, status: int | None = None) -> Page:
    return Page(
        url=response.url,
        final_url=response.final_url,
        status=status or response.status,
        content_type=response.content_type or "application/octet-stream",
        title=title,
        markdown=markdown,
        links=links or [],
        rendered_with=rendered_with,
        fetched_at=_now(),
    )


def _page_from_html(
    response: FetchResult, extracted: Extracted, rendered_with: RenderedWith, status: int | None = None
) -> Page:
    links = [PageLink(url=link.url, text=link.text) for link in extracted.links]
    return _page(
        response, rendered_with, title=extracted.title, markdown=extracted.markdown, links=links, status=status
    )

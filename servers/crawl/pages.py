"""From a URL to a `Page`: cache, SSRF-safe fetch, browser when needed, extraction or document conversion.

Documents (PDF, office files) convert in the documents server's killable worker processes
(`WorkerPool`), under the same size, time and memory limits: one past its time is killed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import anyio

from memento_core.fetch import Fetcher, FetchResult
from memento_servers.crawl.browser import Browser
from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.errors import CrawlError
from memento_servers.crawl.extract import Extracted, extract_html
from memento_servers.crawl.models import Page, PageLink, Render, RenderedWith
from memento_servers.documents.convert import DocumentError, Limits, detect_format
from memento_servers.documents.model import Document
from memento_servers.documents.worker import WORKER_MEMORY_MB, WORKERS, WorkerPool

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
        self.convert_timeout_s = convert_timeout_s
        self.converter = WorkerPool(WORKERS, WORKER_MEMORY_MB, convert_timeout_s, advice="raise --convert-timeout-s")

    def close(self) -> None:
        self.converter.close()

    async def _in_thread(self, what: str, function, *args):
        """Run HTML extraction off the event loop, giving up (the thread finishes alone) after the time limit."""
        try:
            with anyio.fail_after(self.convert_timeout_s):
                return await anyio.to_thread.run_sync(function, *args, abandon_on_cancel=True)
        except TimeoutError as exc:
            raise CrawlError(f"{what} took longer than {self.convert_timeout_s:g} s and was abandoned") from exc

    async def load(self, url: str, render: Render = "auto") -> tuple[Page, bool]:
        """The page at `url` and whether it came from the cache (served only if the policy admits it now)."""
        await self.fetcher.admit(url)
        cached = self.cache.get(url, render)
        if cached is not None:
            if cached.final_url != url:
                await self.fetcher.admit(cached.final_url)
            return cached, True
        page = await self._fetch(url, render)
        self.cache.put(url, render, page)
        return page, False

    async def _fetch(self, url: str, render: Render) -> Page:
        if render == "browser" and self.browser is None:
            raise CrawlError("the browser is disabled on this server (--no-browser); use render='http' or 'auto'")
        response = await self.fetcher.fetch(url)
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
        extracted = await self._in_thread("extracting the page", extract_html, response.content, response.final_url)
        wants_browser = render == "browser" or (render == "auto" and extracted.needs_javascript)
        if not wants_browser or self.browser is None:
            return _page_from_html(response, extracted, "http")
        html, status = await self.browser.render(response)
        rendered = await self._in_thread("extracting the rendered page", extract_html, html, response.final_url)
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
            _, data = await self.converter.call("convert", args, response.content)
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

"""A bounded breadth-first crawl over `PageLoader`: level by level, a few pages at a time."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urlsplit

import anyio

from memento_core.errors import MementoError
from memento_servers.crawl.models import CrawledPage, CrawlResult, Page, Render
from memento_servers.crawl.pages import PageLoader

Progress = Callable[[int, int, str], Awaitable[None]]
SUMMARY_CHARS = 240


@dataclass(frozen=True)
class CrawlOptions:
    max_pages: int
    max_depth: int
    same_domain: bool = True
    include: list[str] = field(default_factory=list)  # glob patterns on the full URL; any must match
    exclude: list[str] = field(default_factory=list)  # glob patterns on the full URL; none may match
    render: Render = "auto"
    respect_robots: bool | None = None  # None: the server's setting


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _summary(markdown: str) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"^#+\s*", "", markdown, flags=re.MULTILINE)).strip()
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"


class LinkFilter:
    def __init__(self, start_url: str, options: CrawlOptions):
        self.host = _host(start_url)
        self.options = options

    def accepts(self, url: str) -> bool:
        if self.options.same_domain and _host(url) != self.host:
            return False
        if self.options.include and not any(fnmatch.fnmatchcase(url, p) for p in self.options.include):
            return False
        return not any(fnmatch.fnmatchcase(url, p) for p in self.options.exclude)


async def crawl(
    loader: PageLoader, start_url: str, options: CrawlOptions, concurrency: int, progress: Progress
) -> CrawlResult:
    """Visit up to `options.max_pages` pages breadth-first from `start_url`; every page lands in the cache."""
    start, _ = await loader.load(start_url, options.render, options.respect_robots)
    link_filter = LinkFilter(start.final_url, options)
    visited: list[CrawledPage] = [_crawled(start_url, 0, start)]
    seen = {urldefrag(start_url).url, urldefrag(start.final_url).url}
    skipped = 0
    await progress(1, options.max_pages, start_url)

    def enqueue(page: Page, depth: int, frontier: list[tuple[str, int]]) -> None:
        nonlocal skipped
        if depth >= options.max_depth:
            return
        for link in page.links:
            if link.url in seen:
                continue
            seen.add(link.url)
            if link_filter.accepts(link.url):
                frontier.append((link.url, depth + 1))
            else:
                skipped += 1

    frontier: list[tuple[str, int]] = []
    enqueue(start, 0, frontier)
    limiter = anyio.Semaphore(concurrency)
    while frontier and len(visited) < options.max_pages:
        batch = frontier[: options.max_pages - len(visited)]
        frontier = frontier[len(batch) :]
        results: list[tuple[CrawledPage, Page | None] | None] = [None] * len(batch)

        async def visit(slot: int, url: str, depth: int) -> None:
            async with limiter:
                try:
                    page, _ = await loader.load(url, options.render, options.respect_robots)
                    results[slot] = (_crawled(url, depth, page), page)
                except MementoError as exc:  # a fetch refused or a page unreadable
                    status = getattr(exc, "status", None)
                    results[slot] = (CrawledPage(url=url, depth=depth, status=status, error=str(exc)), None)
                await progress(len(visited) + sum(r is not None for r in results), options.max_pages, url)

        async with anyio.create_task_group() as group:
            for slot, (url, depth) in enumerate(batch):
                group.start_soon(visit, slot, url, depth)
        next_level: list[tuple[str, int]] = []
        for (url, depth), outcome in zip(batch, results):
            assert outcome is not None
            crawled, page = outcome
            visited.append(crawled)
            if page is not None:
                enqueue(page, depth, next_level)
        frontier.extend(next_level)
    failed = sum(p.error is not None for p in visited)
    return CrawlResult(
        start_url=start_url,
        pages=visited,
        pages_ok=len(visited) - failed,
        pages_failed=failed,
        links_skipped=skipped,
        frontier_left=len(frontier),
        note="Each page's full content is cached: call fetch_page with its url (and the same render) to read it, "
        "page by page with start_index.",
    )


def _crawled(url: str, depth: int, page: Page) -> CrawledPage:
    return CrawledPage(
        url=url,
        depth=depth,
        status=page.status,
        title=page.title,
        chars=len(page.markdown),
        summary=_summary(page.markdown),
    )

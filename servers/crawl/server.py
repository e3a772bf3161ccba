"""The memento-crawl MCP server: tool declarations only."""


import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import Field

from memento_core.fetch import Fetcher
from memento_core.paths import cache_dir
from memento_core.text.slices import MAX_CHARS_DOC, START_INDEX_DOC
from memento_core.units import mib
from memento_servers.crawl.browser import Browser
from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.config import CrawlSettings
from memento_servers.crawl.crawler import CrawlOptions, crawl
from memento_servers.crawl.images import ImageLoader
from memento_servers.crawl.models import CrawlResult, ImageResult, PageResult, Render
from memento_servers.crawl.pages import PageLoader
from memento_servers.crawl.view import page_view
from memento_servers.runtime import ServerSpec, annotations, main_for, new_server

SUMMARY = "Fetch web pages as clean, paginated markdown, rendering JavaScript when needed; crawl small sites."
INSTRUCTIONS = (
    "Read web pages: fetch_page(url) returns the main content as markdown in slices (follow next_start_index), "
    "or only the passages relevant to `query`. crawl_site explores a site breadth-first; its pages are then "
    "read with fetch_page from the cache. fetch_image(url) shows an image to a model that takes image input. "
    "Private and internal network addresses are refused."
)

Url = Annotated[str, Field(description="An absolute http:// or https:// URL.", min_length=8, max_length=4000)]
RenderMode = Annotated[
    Render,
    Field(
        description="auto: plain HTTP fetch, falling back to a headless browser when the page needs JavaScript; "
        "http: never use the browser (fastest); browser: always render in the browser."
    ),
]

RespectRobots = Annotated[
    bool | None,
    Field(description="false: ignore the site's robots.txt for this call, if the server's operator allows it; "
          "default: the server's setting (robots.txt respected unless its operator turned that off)."),
]


def build_server(settings: CrawlSettings) -> MCPServer:
    fetcher = Fetcher(settings.fetch_policy())
    home = cache_dir() / "crawl"
    browser = (
        Browser(
            fetcher,
            settings.chromium_path,
            concurrency=settings.browser_concurrency,
            page_timeout_s=settings.page_timeout_s,
            home=home / "browser",
        )
        if settings.browser
        else None
    )
    cache = PageCache(home / "pages", settings.cache_ttl_s, fetcher.policy.scope)
    loader = PageLoader(
        fetcher, browser, cache, max_bytes=mib(settings.max_fetch_mb), convert_timeout_s=settings.convert_timeout_s
    )

    image_fetcher = Fetcher(settings.image_fetch_policy())
    images = ImageLoader(image_fetcher, loader.workers, max_pixels=int(settings.max_image_megapixels * 1_000_000))

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        loader.start()
        try:
            yield
        finally:
            loader.close()
            if browser is not None:
                await browser.close()
            await fetcher.aclose()
            await image_fetcher.aclose()

    server = new_server("crawl", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(title="Fetch page", annotations=annotations(read_only=True, open_world=True))
    async def fetch_page(
        url: Url,
        max_chars: Annotated[
            int | None,
            Field(description=f"{MAX_CHARS_DOC} (default {settings.default_max_chars}).", ge=200, le=200_000),
        ] = None,
        start_index: Annotated[int, Field(description=START_INDEX_DOC, ge=0)] = 0,
        query: Annotated[
            str | None,
            Field(description="Return only the passages most relevant to this question or keywords (in page order), "
                  "instead of the page from start_index.", max_length=1000),
        ] = None,
        render: RenderMode = "auto",
        include_links: Annotated[
            bool, Field(description=f"Also list the page's links (at most {settings.max_links}).")
        ] = False,
        respect_robots: RespectRobots = None,
    ) -> PageResult:
        """Read a web page (or a PDF/office/data file by URL) as clean markdown: the main content, without menus,
        ads and footers.

        Returns title, status, markdown and total_chars. Long content comes in slices of at most max_chars
        characters, each ending at a paragraph, line, sentence or word boundary if it has one: while
        next_start_index is not null, call again with start_index=next_start_index, as the note says. To read
        only what answers a question, pass query: the best-matching passages come back, with headings, in
        page order. Pages are cached, so further slices are fast. Fails with a clear error for private or
        internal addresses, 4xx/5xx statuses, timeouts, oversized responses and images.
        """
        page, from_cache = await loader.load(url, render, settings.robots_for_call(respect_robots))
        return page_view(
            page,
            from_cache=from_cache,
            start_index=start_index,
            max_chars=max_chars or settings.default_max_chars,
            query=query,
            links=settings.max_links if include_links else 0,
        )

    @server.tool(title="Crawl site", annotations=annotations(read_only=True, open_world=True))
    async def crawl_site(
        url: Url,
        ctx: Context,
        max_pages: Annotated[
            int, Field(description="Most pages to visit, the start page included.", ge=1, le=settings.crawl_max_pages)
        ] = min(20, settings.crawl_max_pages),
        max_depth: Annotated[int, Field(description="Most links followed from the start page.", ge=0, le=10)] = 3,
        same_domain: Annotated[
            bool, Field(description="Follow only links to the start page's host (www. ignored).")
        ] = True,
        include: Annotated[
            list[str] | None,
            Field(description="Follow only URLs matching one of these glob patterns, e.g. ['*/docs/*'].", max_length=20),
        ] = None,
        exclude: Annotated[
            list[str] | None,
            Field(description="Never follow URLs matching these glob patterns, e.g. ['*/tag/*', '*.zip'].", max_length=20),
        ] = None,
        render: RenderMode = "auto",
        respect_robots: RespectRobots = None,
    ) -> CrawlResult:
        """Explore a website breadth-first from url, up to max_pages pages, and list what was found.

        Use it to survey documentation or a small site before reading the relevant pages. Returns, per page,
        its url, depth, title, status, content length and the start of its text (or the error). Every page's
        full content is cached: read it with fetch_page(url) (same render), page by page with start_index.
        Reports progress while it runs. Links to private addresses and other schemes are never followed.
        """
        options = CrawlOptions(
            max_pages=max_pages, max_depth=max_depth, same_domain=same_domain,
            include=include or [], exclude=exclude or [], render=render,
            respect_robots=settings.robots_for_call(respect_robots),
        )

        async def progress(done: int, total: int, current: str) -> None:
            await ctx.report_progress(done, total, f"crawled {done}/{total}: {current}")

        return await crawl(loader, url, options, settings.crawl_concurrency, progress)

    @server.tool(title="Fetch image", annotations=annotations(read_only=True, open_world=True))
    async def fetch_image(
        url: Url,
        max_side: Annotated[
            int | None,
            Field(description=f"Longest side of the returned image in pixels (default and most {settings.max_image_side}); "
                  "a larger image is downscaled.", ge=16, le=settings.max_image_side),
        ] = None,
        respect_robots: RespectRobots = None,
    ) -> Annotated[CallToolResult, ImageResult]:
        """Fetch one image (PNG, JPEG, GIF or WebP) by URL and return it as an image, to look at a figure, chart,
        photo or diagram that a page's text cannot carry.

        Returns the image's type and pixel size (as served and as returned), then the image. fetch_page's
        markdown leaves images out: take image URLs from its links (include_links=true), the page's text, or a
        search result. Large images are downscaled to max_side. Fails with a clear error for private or internal
        addresses, anything that is not really an image (the bytes are checked, not the declared type), images
        over the server's size or pixel limits, and robots.txt refusals.
        """
        side = max_side or settings.max_image_side
        result, data = await images.load(url, side, settings.robots_for_call(respect_robots))
        image = ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type=result.mime_type)
        return CallToolResult(
            content=[TextContent(type="text", text=result.model_dump_json()), image], structured_content=result.model_dump()
        )

    return server


SPEC = ServerSpec(name="crawl", summary=SUMMARY, settings=CrawlSettings, build=build_server, default_port=8712)
main = main_for(SPEC)

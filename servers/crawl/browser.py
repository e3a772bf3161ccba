"""Rendering JavaScript pages with crawl4ai on the system Chromium, without bypassing the SSRF policy.

One browser per server process, started on first use, reused, restarted when it has died;
at most `concurrency` pages render at once, each within `page_timeout_s`. Pages share one
browser context, and each concurrency slot reuses its own tab (crawl4ai's shared pages race under
concurrency; a fresh context per page costs about half a second each here).

What the browser path guarantees: every request a rendered page makes (the document, its
scripts, XHR/fetch, frames) is intercepted and answered through the shared SSRF-safe fetcher,
under the same address policy and size cap as plain fetches (each request within a third of the
page timeout); the document itself is the one already fetched and vetted. Media and fonts are
not fetched and empty stand-ins answer images and stylesheets; non-GET requests and WebSockets
are refused. Chromium itself points at a dead proxy, so a request that escaped interception
could not connect anywhere.
"""

from __future__ import annotations

import copy
import logging
import os
import weakref
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import anyio

from memento_core.errors import FetchError
from memento_core.fetch import Fetcher, FetchResult
from memento_servers.crawl.chromium import Chromium
from memento_servers.crawl.errors import CrawlError

log = logging.getLogger(__name__)

SKIPPED_RESOURCES = frozenset({"media", "font", "manifest", "texttrack", "beacon", "ping", "eventsource", "websocket"})
# Images and stylesheets are answered with empty stand-ins, not refused: a refused image fires `onerror`,
# and pages whose handler swaps in a fallback image would then request images forever.
STAND_INS = {
    "image": ("image/gif", bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")),
    "stylesheet": ("text/css", b""),
}
WAIT_UNTIL = "load"  # then SETTLE_S more for scripts that fill the page after it loaded
SETTLE_S = 0.2
HOP_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"})


class Browser:
    """Renders HTML documents in headless Chromium through crawl4ai."""

    def __init__(self, fetcher: Fetcher, executable: Path, *, concurrency: int, page_timeout_s: float, home: Path):
        # The page's own requests get a third of the page's time each, so that one hanging tracker
        # cannot hold the page's load event until the whole render times out.
        budget = min(fetcher.policy.timeout_s, page_timeout_s / 3)
        self.fetcher = Fetcher(
            replace(fetcher.policy, timeout_s=budget, connect_timeout_s=min(fetcher.policy.connect_timeout_s, budget)),
            resolver=fetcher.guard.resolver,
        )
        self.chromium = Chromium(executable, home / "profiles")
        self.page_timeout_s = page_timeout_s
        self.home = home  # Chromium profiles and crawl4ai's base directory (so it writes nothing into ~)
        self._slots = anyio.Semaphore(concurrency)
        self._free_tabs = [f"tab-{n}" for n in range(concurrency)]  # one reused browser tab per slot
        self._start_lock = anyio.Lock()
        self._crawler = None
        self._run_config = None
        self._guarded: weakref.WeakSet = weakref.WeakSet()  # browser contexts whose requests we answer
        self._guard_lock = anyio.Lock()
        self._documents: dict[str, FetchResult] = {}  # vetted documents, served to the navigations that ask for them

    async def render(self, document: FetchResult) -> tuple[str, int]:
        """The DOM (as HTML) of `document` after its scripts ran, and the status the page reported."""
        async with self._slots:
            tab = self._free_tabs.pop()
            try:
                return await self._render_once(document, tab)
            except _BrowserGone:
                log.warning("Chromium went away; restarting it")
                await self.close()
                return await self._render_once(document, tab)
            finally:
                self._free_tabs.append(tab)

    async def _render_once(self, document: FetchResult, tab: str) -> tuple[str, int]:
        crawler, shared_config = await self._ensure_started()
        config = copy.copy(shared_config)
        config.session_id = tab  # crawl4ai keeps the tab of a session open for the next render in that slot
        url = document.final_url
        self._documents[url] = document
        try:
            with anyio.fail_after(self.page_timeout_s + 10):
                result = await crawler.arun(url, config=config)
        except TimeoutError as exc:
            raise CrawlError(f"rendering {url} in the browser took longer than {self.page_timeout_s:g} s") from exc
        except Exception as exc:  # playwright raises its own errors when the browser disappears
            await self._fail(crawler, tab, url, str(exc), exc)
        finally:
            self._documents.pop(url, None)
        if not result.success:
            await self._fail(crawler, tab, url, result.error_message or "")
        return result.html or "", result.status_code or document.status

    async def _fail(self, crawler, tab: str, url: str, reason: str, cause: Exception | None = None) -> NoReturn:
        if not self.chromium.alive:
            raise _BrowserGone() from cause
        try:  # the slot's tab may be broken (crashed renderer): the next render in this slot opens a new one
            await crawler.crawler_strategy.browser_manager.kill_session(tab)
        except Exception as exc:
            log.debug("closing tab %s failed: %s", tab, exc)
        raise CrawlError(f"the browser could not render {url}: {reason.strip()[:500]}") from cause

    async def _ensure_started(self):
        async with self._start_lock:
            if self._crawler is not None and self.chromium.alive:
                return self._crawler, self._run_config
            await self._stop_crawler()
            self.chromium.stop()  # a dead browser's helpers and profile
            os.environ.setdefault("CRAWL4AI_NO_CLOUD_NOTICE", "1")
            os.environ["CRAWL4_AI_BASE_DIRECTORY"] = str(self.home)
            self.home.mkdir(parents=True, exist_ok=True)
            from crawl4ai import AsyncWebCrawler, BrowserConfig, CacheMode, CrawlerRunConfig

            cdp_url = await self.chromium.start()
            crawler = AsyncWebCrawler(
                config=BrowserConfig(
                    browser_mode="custom", cdp_url=cdp_url, create_isolated_context=False, text_mode=True, verbose=False
                )
            )
            crawler.crawler_strategy.set_hook("on_page_context_created", self._guard_page)
            try:
                await crawler.start()
            except Exception as exc:
                self.chromium.stop()
                raise CrawlError(f"cannot connect to Chromium: {exc}; use render='http'") from exc
            await self._guard_context(crawler.crawler_strategy.browser_manager.default_context)
            self._crawler = crawler
            self._run_config = CrawlerRunConfig(  # built once: crawl4ai's configs are slow to construct
                cache_mode=CacheMode.BYPASS,
                page_timeout=int(self.page_timeout_s * 1000),
                wait_until=WAIT_UNTIL,
                delay_before_return_html=SETTLE_S,
                prefetch=True,  # only the rendered HTML: extraction is ours
                verbose=False,
            )
            return crawler, self._run_config

    async def _guard_page(self, page, context=None, **_: object):
        """crawl4ai hook, before each navigation: make sure the page's context is guarded."""
        await self._guard_context(context or page.context)
        return page

    async def _guard_context(self, context) -> None:
        """Route every request of `context` (its pages', frames' and workers') through the fetcher.

        Done for the default context before any tab exists: tabs opened while a route is being added
        can miss it (such a request then meets the dead proxy and fails).
        """
        async with self._guard_lock:
            if context is not None and context not in self._guarded:
                await context.route("**/*", self._answer)
                await context.route_web_socket("**/*", _refuse_web_socket)
                self._guarded.add(context)

    async def _answer(self, route) -> None:
        request = route.request
        if request.resource_type in STAND_INS:
            content_type, body = STAND_INS[request.resource_type]
            await route.fulfill(status=200, content_type=content_type, body=body)
            return
        if request.resource_type in SKIPPED_RESOURCES or request.method != "GET":
            await route.abort("blockedbyclient")
            return
        document = self._documents.get(request.url) if request.is_navigation_request() else None
        if document is None:
            try:
                document = await self.fetcher.fetch(request.url, raise_for_status=False)
            except FetchError as exc:
                log.info("browser request refused: %s", exc)
                await route.abort("blockedbyclient" if exc.kind == "blocked" else "failed")
                return
        headers = {k: v for k, v in document.headers.items() if k not in HOP_HEADERS}
        await route.fulfill(status=document.status, headers=headers, body=document.content)

    async def _stop_crawler(self) -> None:
        if self._crawler is not None:
            crawler, self._crawler = self._crawler, None
            try:
                await crawler.close()
            except Exception as exc:  # closing a crawler whose browser died raises anything
                log.debug("closing crawl4ai failed: %s", exc)

    async def close(self) -> None:
        async with self._start_lock:
            await self._stop_crawler()
            self.chromium.stop()
        await self.fetcher.aclose()


class _BrowserGone(Exception):
    """Chromium died under a render; the render is retried once on a fresh browser."""


async def _refuse_web_socket(ws) -> None:
    await ws.close(code=1008, reason="WebSockets are not allowed while rendering")

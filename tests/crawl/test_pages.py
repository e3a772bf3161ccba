"""PageLoader on its own: the time limits on extraction and on conversion (both in killable workers)."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from memento_core.fetch import Fetcher, FetchPolicy
from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.errors import CrawlError
from memento_servers.crawl.pages import PageLoader
from tests.documents import samples
from tests.fakes.site import site  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio


def children() -> set[int]:
    return {int(pid) for path in Path("/proc/self/task").glob("*/children") for pid in path.read_text().split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_extraction_over_its_time_limit_is_stopped_with_a_clear_error(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        loader = PageLoader(fetcher, None, PageCache(tmp_path, 0), max_bytes=10**7, convert_timeout_s=0.001)
        try:
            with pytest.raises(CrawlError, match="extracting the page took longer than 0.001 s and was stopped"):
                await loader.load(site.url("/articles/long.html"), "http")
        finally:
            loader.close()


async def test_browser_rendering_asked_of_a_server_without_browser_is_refused(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        loader = PageLoader(fetcher, None, PageCache(tmp_path, 0), max_bytes=10**7, convert_timeout_s=30)
        with pytest.raises(CrawlError, match="--no-browser"):
            await loader.load(site.url("/js/app.html"), "browser")
        page, from_cache = await loader.load(site.url("/js/app.html"), "auto")  # auto: the shell, no browser
        assert page.rendered_with == "http" and not from_cache


async def test_a_conversion_over_the_time_limit_is_killed_and_the_loader_keeps_serving(site, tmp_path):
    big = site.add("/files/big.pdf", samples.repeated_pdf(samples.report_pdf(250), 8), "application/pdf")
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        loader = PageLoader(fetcher, None, PageCache(tmp_path, 0), max_bytes=10**7, convert_timeout_s=0.5)
        try:
            await anyio.to_thread.run_sync(lambda: site.pdf)
            await loader.load(site.url("/files/report.pdf"), "http")  # starts a worker
            before = children()
            with pytest.raises(CrawlError, match="longer than 0.5 s and was stopped"):
                await loader.load(big, "http")
            killed = before - children()
            assert killed and not any(alive(pid) for pid in killed)
            page, _ = await loader.load(site.url("/files/report.pdf"), "http")
            assert page.rendered_with == "document" and "marram grass" in page.markdown
        finally:
            loader.close()

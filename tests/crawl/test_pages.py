"""PageLoader on its own: the time limit on extraction and conversion."""

from __future__ import annotations

import pytest

from memento_servers.crawl.cache import PageCache
from memento_servers.crawl.pages import PageLoader
from memento_servers.crawl.errors import CrawlError
from memento_core.fetch import Fetcher, FetchPolicy
from tests.fakes.site import site  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio


async def test_extraction_over_its_time_limit_is_abandoned_with_a_clear_error(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        loader = PageLoader(fetcher, None, PageCache(tmp_path, 0), max_bytes=10**7, convert_timeout_s=0.001)
        with pytest.raises(CrawlError, match="extracting the page took longer than 0.001 s"):
            await loader.load(site.url("/articles/long.html"), "http")


async def test_browser_rendering_asked_of_a_server_without_browser_is_refused(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        loader = PageLoader(fetcher, None, PageCache(tmp_path, 0), max_bytes=10**7, convert_timeout_s=30)
        with pytest.raises(CrawlError, match="--no-browser"):
            await loader.load(site.url("/js/app.html"), "browser")
        page, from_cache = await loader.load(site.url("/js/app.html"), "auto")  # auto: the shell, no browser
        assert page.rendered_with == "http" and not from_cache

"""The crawl cache never serves a page the current address policy refuses (real servers over MCP, one cache)."""

from __future__ import annotations

import anyio
import pytest

from tests.fakes.site import site  # noqa: F401 (fixture)
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

HTTP_ONLY = ["--no-browser", "--timeout-s", "5"]


async def fetch_page(args: list[str], url: str):
    with anyio.fail_after(90):
        async with connect("crawl", args=[*args, *HTTP_ONLY]) as client:
            return await client.call_tool("fetch_page", {"url": url, "render": "http"})


async def test_crawl_cache_page_fetched_under_allow_host_is_refused_without_it(site):
    url = site.url("/articles/tides.html")
    first = payload(await fetch_page(["--allow-host", "127.0.0.1"], url))
    assert first["from_cache"] is False and "Moon" in first["markdown"]
    again = payload(await fetch_page(["--allow-host", "127.0.0.1"], url))
    assert again["from_cache"] is True  # the cache holds it for the same policy

    message = error_text(await fetch_page([], url))
    assert "refused to connect to 127.0.0.1" in message and "--allow-host" in message
    assert "Moon" not in message


async def test_crawl_cache_page_reached_by_redirect_is_refused_when_its_target_no_longer_is_allowed(site):
    target = site.url("/articles/bread.html")
    via_name = site.redirect_to(target).replace("127.0.0.1", "localhost", 1)  # localhost -> 127.0.0.1 target
    wide = payload(await fetch_page(["--allow-host", "localhost", "--allow-host", "127.0.0.1"], via_name))
    assert wide["final_url"] == target and wide["from_cache"] is False

    message = error_text(await fetch_page(["--allow-host", "localhost"], via_name))
    assert "refused to connect to 127.0.0.1" in message and "sourdough" not in message.lower()


"""memento-crawl respects robots.txt unless the operator turns it off (as the official fetch server does); a call
may ignore it only where the operator allows that."""

from __future__ import annotations

import anyio
import pytest

from tests.fakes.site import site  # noqa: F401 (fixture)
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio
ARGS = ["--allow-host", "127.0.0.1", "--no-browser", "--timeout-s", "5", "--cache-ttl-s", "0"]


async def test_robots_txt_is_respected_by_default_and_the_operator_can_turn_it_off(site):
    disallowed = site.url("/private/secret.html")
    with anyio.fail_after(120):
        async with connect("crawl", args=ARGS) as client:
            assert "robots.txt" in error_text(await client.call_tool("fetch_page", {"url": disallowed}))
        async with connect("crawl", args=[*ARGS, "--no-respect-robots"]) as client:
            assert payload(await client.call_tool("fetch_page", {"url": disallowed}))["status"] == 200


async def test_a_call_may_ignore_robots_txt_only_where_the_operator_allows_it(site):
    disallowed = site.url("/private/secret.html")
    ignore = {"url": disallowed, "respect_robots": False}
    with anyio.fail_after(120):
        async with connect("crawl", args=ARGS) as client:  # not allowed: the call is refused, not served
            refused = error_text(await client.call_tool("fetch_page", ignore))
            assert "--allow-robots-override" in refused and "respect_robots=false" in refused
            start = site.url("/site/page-1.html")
            refused = error_text(await client.call_tool("crawl_site", {"url": start, "respect_robots": False}))
            assert "--allow-robots-override" in refused
        allowed = [*ARGS[:-2], "--allow-robots-override"]  # with the page cache: what one call read, others do not get
        async with connect("crawl", args=allowed) as client:
            assert payload(await client.call_tool("fetch_page", ignore))["status"] == 200
            assert "robots.txt" in error_text(await client.call_tool("fetch_page", {"url": disallowed}))  # still the default
            crawl = {"url": start, "max_depth": 1, "include": ["*/private/*"]}
            private = [p for p in payload(await client.call_tool("crawl_site", crawl))["pages"] if "/private/" in p["url"]]
            assert private and "robots.txt" in private[0]["error"]
            crawled = payload(await client.call_tool("crawl_site", {**crawl, "respect_robots": False}))["pages"]
            private = [p for p in crawled if "/private/" in p["url"]]
            assert private and private[0]["error"] is None and private[0]["status"] == 200

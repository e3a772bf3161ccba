"""memento-crawl respects robots.txt unless the operator turns it off (as the official fetch server does)."""

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

"""memento-crawl over real MCP sessions (stdio and streamable HTTP) against the local test site.

Each transport gets one server process that is exercised on every behaviour, to keep start-ups few.
"""

from __future__ import annotations

from urllib.parse import quote

import anyio
import pytest

from tests.fakes.site import ARTICLES, JS_ARTICLE, site  # noqa: F401 (fixture)
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

SERVER_ARGS = [
    "--allow-host", "127.0.0.1", "--max-fetch-mb", "1", "--timeout-s", "3", "--browser-concurrency", "2", "--respect-robots",
]


async def fetch(client, url: str, **arguments):
    with anyio.fail_after(90):
        return await client.call_tool("fetch_page", {"url": url, **arguments})


async def check_static_article(client, site):
    page = payload(await fetch(client, site.url("/articles/tides.html"), include_links=True))
    title, paragraphs = ARTICLES["tides"]
    assert page["status"] == 200 and page["rendered_with"] == "http" and page["title"].startswith(title)
    assert all(p[:60] in page["markdown"] for p in paragraphs)
    for boilerplate in ("Accept all", "Privacy policy", "Most read", "Advertisement", "Great read"):
        assert boilerplate not in page["markdown"]
    assert page["next_start_index"] is None and page["total_chars"] == len(page["markdown"])
    assert site.url("/articles/bread.html") in {link["url"] for link in page["links"]}
    assert page["from_cache"] is False
    again = payload(await fetch(client, site.url("/articles/tides.html")))
    assert again["from_cache"] is True and again["links"] is None


async def check_pagination(client, site):
    url, parts, start = site.url("/articles/long.html"), [], 0
    while start is not None:
        page = payload(await fetch(client, url, max_chars=5000, start_index=start))
        assert len(page["markdown"]) <= 5000 and page["start_index"] == start
        parts.append(page["markdown"])
        start = page["next_start_index"]
        assert start is None or f"start_index={start}" in page["note"]
    assert len(parts) >= 9 and "".join(parts).count("Marker ") == 180
    assert len("".join(parts)) == page["total_chars"]
    past = error_text(await fetch(client, url, start_index=10**6))
    assert "past the end" in past


async def check_query(client, site):
    page = payload(await fetch(client, site.url("/articles/long.html"), query="volcanoes marker 13-2", max_chars=1500))
    assert len(page["markdown"]) <= 1500 and page["next_start_index"] is None
    assert "Marker 13-2" in page["markdown"] and "## Part 13: volcanoes" in page["markdown"]
    assert "rivers" not in page["markdown"] and "[…]" in page["markdown"]


async def check_redirects_and_refusals(client, site):
    chain = payload(await fetch(client, site.url("/redirect/chain/3")))
    assert chain["final_url"] == site.url("/articles/tides.html")
    for target in ("http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"):
        message = error_text(await fetch(client, site.redirect_to(target)))
        assert "refused" in message and target.split("/")[2] in message
    assert "http:// and https://" in error_text(await fetch(client, "file:///etc/passwd"))
    assert "too many redirects" in error_text(await fetch(client, site.url("/redirect/loop")))
    assert "robots.txt" in error_text(await fetch(client, site.url("/private/secret.html")))


async def check_failures(client, site):
    assert "HTTP 404" in error_text(await fetch(client, site.url("/status/404")))
    assert "HTTP 500" in error_text(await fetch(client, site.url("/status/500")))
    assert "1,048,576-byte limit" in error_text(await fetch(client, site.url("/huge.html")))
    assert "timed out" in error_text(await fetch(client, site.url("/slow.html?delay=5")))
    assert "image" in error_text(await fetch(client, site.url("/image.png")))


async def check_non_html(client, site):
    await anyio.to_thread.run_sync(lambda: site.pdf)  # the site makes its PDF once, slowly: not inside a fetch
    pdf = payload(await fetch(client, site.url("/files/report.pdf")))
    assert pdf["rendered_with"] == "document" and pdf["content_type"] == "application/pdf"
    assert "Dune retreat averaged 1.8 metres" in pdf["markdown"] and "marram grass" in pdf["markdown"]
    data = payload(await fetch(client, site.url("/data.json")))
    assert "North Pier" in data["markdown"]
    text = payload(await fetch(client, site.url("/notes.txt")))
    assert text["rendered_with"] == "text" and text["markdown"].startswith("Plain notes")


async def check_javascript_pages(client, site):
    shell = payload(await fetch(client, site.url("/js/app.html"), render="http"))
    assert "Fireflies make light" not in shell["markdown"]
    auto = payload(await fetch(client, site.url("/js/app.html")))
    assert auto["rendered_with"] == "browser" and auto["title"] == "How Fireflies Glow"
    assert all(p in auto["markdown"] for p in JS_ARTICLE)
    external = payload(await fetch(client, site.url("/js/external.html"), render="browser"))
    assert external["rendered_with"] == "browser" and JS_ARTICLE[0] in external["markdown"]
    static = payload(await fetch(client, site.url("/articles/bread.html"), render="browser"))
    assert static["rendered_with"] == "browser" and ARTICLES["bread"][1][0][:50] in static["markdown"]


async def check_browser_stays_inside_the_policy(client, site):
    probe = payload(await fetch(client, site.url("/js/probe.html"), render="browser"))
    assert "returned station North Pier" in probe["markdown"]  # page scripts' requests go through the fetcher
    assert "was blocked before it left the browser" in probe["markdown"]
    assert "LEAKED" not in probe["markdown"]
    assert "/private/secret.html" not in site.requests
    refused = error_text(await fetch(client, site.redirect_to("http://169.254.169.254/"), render="browser"))
    assert "refused" in refused


async def check_crawl(client, site):
    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, total, message))

    with anyio.fail_after(90):
        result = await client.call_tool(
            "crawl_site",
            {"url": site.url("/site/index.html"), "max_pages": 8, "include": ["*/site/*"], "render": "http"},
            progress_callback=on_progress,
        )
    crawl = payload(result)
    urls = [page["url"] for page in crawl["pages"]]
    assert len(urls) == 8 and len(set(urls)) == 8 and urls[0] == site.url("/site/index.html")
    assert all("/site/" in url for url in urls) and crawl["pages_failed"] == 0
    assert [page["depth"] for page in crawl["pages"]] == sorted(page["depth"] for page in crawl["pages"])
    assert crawl["links_skipped"] > 0 and crawl["frontier_left"] > 0
    assert all(page["chars"] > 0 and page["summary"] for page in crawl["pages"])
    assert len(updates) >= 8 and updates[-1][0] == 8 and updates[-1][1] == 8
    cached = payload(await fetch(client, urls[3], render="http"))
    assert cached["from_cache"] is True and "station handbook" in cached["markdown"]


@pytest.mark.browser
async def test_crawl_server_over_each_transport(transport, site):
    async with connect("crawl", transport, args=SERVER_ARGS) as client:
        await check_static_article(client, site)
        await check_pagination(client, site)
        await check_query(client, site)
        await check_redirects_and_refusals(client, site)
        await check_failures(client, site)
        await check_non_html(client, site)
        await check_crawl(client, site)
        await check_javascript_pages(client, site)
        await check_browser_stays_inside_the_policy(client, site)


async def test_crawl_refuses_private_addresses_without_an_allowlist(site):
    async with connect("crawl", "stdio", mode="legacy") as client:
        message = error_text(await fetch(client, site.url("/articles/tides.html")))
        assert "refused to connect to 127.0.0.1" in message and "--allow-host" in message
        message = error_text(await client.call_tool("crawl_site", {"url": "http://169.254.169.254/"}))
        assert "cloud metadata" in message
        quoted = quote("http://[::1]/", safe="")
        assert "refused" in error_text(await fetch(client, f"http://10.1.2.3/?next={quoted}"))

"""The Chromium renderer on its own: restart after a crash, and a clear error without Chromium."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import pytest

from memento_core.fetch import Fetcher, FetchPolicy
from memento_servers.crawl.browser import Browser
from memento_servers.crawl.errors import CrawlError
from tests.fakes.site import JS_ARTICLE, site  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio


@pytest.mark.browser
async def test_browser_restarts_after_chromium_dies_and_cleans_up(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        browser = Browser(fetcher, Path("/usr/bin/chromium"), concurrency=1, page_timeout_s=20, home=tmp_path)
        try:
            document = await fetcher.fetch(site.url("/js/app.html"))
            with anyio.fail_after(60):
                html, status = await browser.render(document)
                assert status == 200 and JS_ARTICLE[0] in html
                first_pid, first_profile = browser.chromium.process.pid, browser.chromium.profile
                browser.chromium.process.kill()
                browser.chromium.process.wait()
                html, _ = await browser.render(document)
            assert JS_ARTICLE[0] in html and browser.chromium.process.pid != first_pid
            assert not first_profile.exists()
        finally:
            await browser.close()
        assert not browser.chromium.alive and not any((tmp_path / "profiles").iterdir())


async def test_missing_chromium_is_a_clear_error(site, tmp_path):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        browser = Browser(fetcher, tmp_path / "no-chromium", concurrency=1, page_timeout_s=5, home=tmp_path)
        document = await fetcher.fetch(site.url("/js/app.html"))
        with pytest.raises(CrawlError, match="Chromium was not found .* render='http'"):
            await browser.render(document)


def test_profiles_left_by_dead_servers_are_removed(tmp_path):
    from memento_servers.crawl.chromium import remove_orphaned_profiles

    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"{dead.pid}-abc").mkdir()
    (tmp_path / f"{os.getpid()}-mine").mkdir()
    remove_orphaned_profiles(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [f"{os.getpid()}-mine"]

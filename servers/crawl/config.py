"""Settings of memento-crawl (env MEMENTO_CRAWL_*, TOML [crawl]), read once at start-up."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pydantic import Field

from memento_core.fetch import FetchPolicy
from memento_core.settings import ServerSettings
from memento_core.units import mib
from memento_servers.crawl.errors import CrawlError


class CrawlSettings(ServerSettings):
    """Settings of memento-crawl (env MEMENTO_CRAWL_*, TOML [crawl])."""

    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Non-public hosts or CIDRs that may be fetched anyway (e.g. 127.0.0.1, intranet.local, 10.0.0.0/8); "
        "public addresses are always allowed, everything else is refused.",
        json_schema_extra={"cli": "--allow-host"},
    )
    max_fetch_mb: float = Field(10.0, gt=0, description="Largest response body read, in MiB (decoded).")
    timeout_s: float = Field(30.0, gt=0, description="Time limit of one HTTP fetch, redirects included, in seconds.")
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed per fetch.")
    user_agent: str = Field("memento-agent-crawl/0.1", description="User-Agent header sent with every request.")
    respect_robots: bool = Field(
        True, description="Refuse URLs disallowed by the site's robots.txt for user_agent (--no-respect-robots: fetch them anyway)."
    )
    allow_robots_override: bool = Field(
        False, description="Let a call ignore robots.txt with respect_robots=false (off: such a call is refused)."
    )
    robots_timeout_s: float = Field(5.0, gt=0, description="Time limit for fetching one robots.txt.")
    convert_timeout_s: float = Field(
        60.0, gt=0, description="Time limit for extracting a page or converting a document (PDF, office) to markdown; "
        "a conversion past it is killed."
    )
    default_max_chars: int = Field(12_000, ge=500, description="Characters of markdown per fetch_page call by default.")
    max_links: int = Field(100, ge=0, description="Most links returned by fetch_page when links are asked for.")
    browser: bool = Field(True, description="Allow rendering pages in headless Chromium (--no-browser: HTTP only).")
    chromium_path: Path = Field(Path("/usr/bin/chromium"), description="The Chromium executable used for rendering.")
    browser_concurrency: int = Field(2, ge=1, le=16, description="Pages rendered in the browser at the same time.")
    page_timeout_s: float = Field(30.0, gt=0, description="Time limit for rendering one page in the browser.")
    cache_ttl_s: float = Field(3600.0, ge=0, description="How long fetched pages stay cached on disk (0: no cache).")
    crawl_max_pages: int = Field(100, ge=1, description="Upper bound on crawl_site's max_pages.")
    max_image_mb: float = Field(8.0, gt=0, description="Largest image fetch_image reads, in MiB (decoded).")
    max_image_side: int = Field(
        1568, ge=16, le=8192, description="Longest side of an image fetch_image returns, in pixels; larger ones are "
        "downscaled (the upper bound of its max_side)."
    )
    max_image_megapixels: float = Field(
        50.0, gt=0, description="Largest image fetch_image decodes, in millions of pixels (checked before decoding, "
        "against decompression bombs)."
    )
    crawl_concurrency: int = Field(4, ge=1, le=32, description="Pages fetched at the same time by crawl_site.")

    def robots_for_call(self, respect_robots: bool | None) -> bool | None:
        """A call's `respect_robots`, refused when it asks to ignore robots.txt and the operator does not allow that."""
        if respect_robots is False and self.respect_robots and not self.allow_robots_override:
            raise CrawlError(
                "this server respects robots.txt and does not let calls ignore it: call again without "
                "respect_robots=false (its operator can allow it with --allow-robots-override)"
            )
        return respect_robots

    def fetch_policy(self) -> FetchPolicy:
        return FetchPolicy(
            allow_hosts=tuple(self.allow_hosts),
            max_bytes=mib(self.max_fetch_mb),
            timeout_s=self.timeout_s,
            connect_timeout_s=min(10.0, self.timeout_s),
            read_timeout_s=self.timeout_s,
            max_redirects=self.max_redirects,
            user_agent=self.user_agent,
            respect_robots=self.respect_robots,
            robots_timeout_s=self.robots_timeout_s,
            limit_setting="--max-fetch-mb",
        )

    def image_fetch_policy(self) -> FetchPolicy:
        """`fetch_policy` with the image size limit."""
        return replace(self.fetch_policy(), max_bytes=mib(self.max_image_mb), limit_setting="--max-image-mb")

"""What the crawl tools return, and the page record the cache keeps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from memento_core.text.slices import NEXT_START_INDEX_DOC

Render = Literal["auto", "http", "browser"]
RenderedWith = Literal["http", "browser", "document", "text"]


class PageLink(BaseModel):
    url: str = Field(description="Absolute URL.")
    text: str = Field(description="The link's visible text.")


class Page(BaseModel):
    """One fetched page, fully extracted: what the cache stores and pagination slices."""

    url: str
    final_url: str
    status: int
    content_type: str
    title: str | None
    markdown: str
    links: list[PageLink] = Field(default_factory=list)
    rendered_with: RenderedWith
    fetched_at: str


class PageResult(BaseModel):
    """A slice of a page's main content as markdown."""

    url: str = Field(description="The URL asked for.")
    final_url: str = Field(description="Where the content came from, after redirects.")
    status: int = Field(description="HTTP status of the final response.")
    title: str | None = Field(description="The page title, when it has one.")
    content_type: str = Field(description="Media type of the response, e.g. text/html or application/pdf.")
    rendered_with: RenderedWith = Field(
        description="http: fetched and extracted; browser: rendered in headless Chromium first; "
        "document: converted from PDF/office/data; text: plain text as served."
    )
    markdown: str = Field(description="The main content (boilerplate removed), this slice of it.")
    start_index: int = Field(description="Offset of this slice in the full content.")
    total_chars: int = Field(description="Length of the full content in characters.")
    next_start_index: int | None = Field(description=f"{NEXT_START_INDEX_DOC} Always null with query.")
    query: str | None = Field(None, description="The query the content was compressed for, if any.")
    links: list[PageLink] | None = Field(None, description="Links on the page (only when include_links).")
    fetched_at: str = Field(description="When the page was fetched (UTC, ISO 8601).")
    from_cache: bool = Field(description="True when served from the disk cache instead of a new fetch.")
    note: str | None = Field(
        None, description="How to read the rest, when this slice is not the end; what a query left out."
    )


class CrawledPage(BaseModel):
    url: str = Field(description="The page's URL; read it with fetch_page (served from cache).")
    depth: int = Field(description="Links followed from the start URL.")
    status: int | None = Field(None, description="HTTP status, when a response came back.")
    title: str | None = None
    chars: int = Field(0, description="Length of the page's main content in characters.")
    summary: str = Field("", description="The start of the page's main content.")
    error: str | None = Field(None, description="Why the page could not be read, if it failed.")


class CrawlResult(BaseModel):
    start_url: str
    pages: list[CrawledPage] = Field(description="Pages visited, in breadth-first order.")
    pages_ok: int = Field(description="Pages read successfully.")
    pages_failed: int = Field(description="Pages that failed (refused, errors, unreadable types).")
    links_skipped: int = Field(description="Links not followed: other domains, filtered out, or beyond max_pages.")
    frontier_left: int = Field(description="Links queued but not visited because max_pages was reached.")
    note: str = Field(description="How to read the pages' full content.")


class ImageResult(BaseModel):
    """An image fetched from the web; the image itself follows as MCP image content."""

    url: str = Field(description="The URL asked for.")
    final_url: str = Field(description="Where the image came from, after redirects.")
    served_as: str = Field(description="The media type its server declared (the bytes decide the real type).")
    mime_type: str = Field(description="Type of the image returned: image/png, image/jpeg, image/gif or image/webp.")
    width: int = Field(description="Width of the returned image in pixels.")
    height: int = Field(description="Height of the returned image in pixels.")
    original_width: int = Field(description="Width of the image as served.")
    original_height: int = Field(description="Height of the image as served.")
    downscaled: bool = Field(description="True when the image was shrunk to max_side and re-encoded.")
    size_bytes: int = Field(description="Size of the returned image in bytes.")

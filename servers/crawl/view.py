"""What fetch_page shows of a `Page`: a slice for pagination, or the passages that match a query."""

from __future__ import annotations

from memento_core.text.slices import continuation_note, slice_text
from memento_servers.crawl.errors import CrawlError
from memento_servers.crawl.models import Page, PageResult
from memento_servers.crawl.passages import compress


def page_view(
    page: Page,
    *,
    from_cache: bool,
    start_index: int,
    max_chars: int,
    query: str | None,
    links: int,
) -> PageResult:
    """The part of `page` one fetch_page call returns; `links` caps the links listed (0: none)."""
    text = page.markdown
    total = len(text)
    if start_index and start_index >= total:
        raise CrawlError(f"start_index={start_index} is past the end of the content ({total} characters)")
    notes = []
    part = slice_text(text, start_index, max_chars)
    markdown, next_start = part.text, part.next_start
    if query and query.strip():
        compressed = compress(text, query, max_chars)
        if compressed.kept_blocks:
            markdown, next_start, start_index = compressed.markdown, None, 0
            notes.append(
                f"compressed to the {compressed.kept_blocks} of {compressed.total_blocks} passages most relevant to "
                "the query ([…] marks omissions); call without query to read the page in order"
            )
        else:
            notes.append("no passage matched the query; showing the page from the start instead")
    if next_start is not None:
        notes.append(continuation_note(part))
    note = "; ".join(notes) or None
    if not text:
        note = "no main content was found on this page" + (
            "; it may need JavaScript: try render='browser'" if page.rendered_with == "http" else ""
        )
    return PageResult(
        url=page.url,
        final_url=page.final_url,
        status=page.status,
        title=page.title,
        content_type=page.content_type,
        rendered_with=page.rendered_with,
        markdown=markdown,
        start_index=start_index,
        total_chars=total,
        next_start_index=next_start,
        query=query or None,
        links=page.links[:links] if links else None,
        fetched_at=page.fetched_at,
        from_cache=from_cache,
        note=note,
    )

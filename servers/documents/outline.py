"""A document's outline without reading it all: PDF bookmarks, or the headings of converted markdown."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from memento_servers.documents.model import Document

HEADING = re.compile(r"^(#{1,6}) +(.+?)\s*$", re.MULTILINE)
MAX_ENTRIES = 200


def headings(document: Document, limit: int = MAX_ENTRIES) -> list[dict[str, Any]]:
    """Markdown headings as {level, title, page}; page is None when the format has no pages."""
    starts = [span.start for span in document.pages]
    entries = []
    for match in HEADING.finditer(document.markdown):
        page = document.pages[bisect_right(starts, match.start()) - 1].page if starts and match.start() >= starts[0] else None
        entries.append({"level": len(match.group(1)), "title": match.group(2)[:200], "page": page})
        if len(entries) >= limit:
            break
    return entries


def pdf_summary(data: bytes) -> dict[str, Any]:
    """Page count, metadata and bookmarks of a PDF, without converting any page."""
    from memento_servers.documents.formats import pdf

    document = pdf.open_pdf(data)
    try:
        return {
            "format": "pdf",
            "page_count": document.page_count,
            "metadata": pdf.metadata(document),
            "outline": pdf.outline(document, MAX_ENTRIES),
        }
    finally:
        document.close()

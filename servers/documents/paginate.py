"""Page selections ("1-3,7") and character windows over a converted document."""

from __future__ import annotations

from dataclasses import dataclass

from memento_core.text.slices import Slice, slice_text
from memento_servers.documents.errors import BadPageSelection
from memento_servers.documents.model import Document

MAX_SELECTED_PAGES = 5000


def parse_pages(spec: str | None) -> list[int] | None:
    """'3', '1-5', '2,4,10-12' -> sorted page numbers; None or '' -> None (all pages)."""
    if spec is None or not str(spec).strip():
        return None
    pages: set[int] = set()
    for part in str(spec).replace(" ", "").split(","):
        if not part:
            continue
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last) if dash else int(first)
        except ValueError:
            raise BadPageSelection(f"pages={spec!r} is not a page list; write e.g. '3', '1-5' or '2,4,10-12'") from None
        if low < 1 or high < low:
            raise BadPageSelection(f"pages={spec!r}: pages are numbered from 1 and ranges go low-high")
        if high - low + len(pages) > MAX_SELECTED_PAGES:
            raise BadPageSelection(f"pages={spec!r} selects too many pages (at most {MAX_SELECTED_PAGES})")
        pages.update(range(low, high + 1))
    return sorted(pages) or None


@dataclass(frozen=True)
class Window(Slice):
    """A slice of a document's markdown and the pages it covers."""

    pages: list[int]


def window(document: Document, start: int, max_chars: int) -> Window:
    """The slice of `document` from `start` (see `slice_text`) and the pages it overlaps."""
    part = slice_text(document.markdown, start, max_chars)
    start, end = part.start, part.end
    pages = [span.page for span in document.pages if span.start < end and span.end > start] if end > start else []
    if not pages and end > start:
        pages = [span.page for span in document.pages if span.start <= start <= span.end][:1]
    return Window(part.text, start, end, part.total, pages)

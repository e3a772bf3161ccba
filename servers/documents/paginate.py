"""Page selections ("1-3,7") and character windows over a converted document."""

from __future__ import annotations

from dataclasses import dataclass

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
class Window:
    text: str
    start: int
    end: int
    total: int
    pages: list[int]

    @property
    def next_start(self) -> int | None:
        return self.end if self.end < self.total else None


def window(document: Document, start: int, max_chars: int) -> Window:
    """`max_chars` characters from `start`, cut at a line break near the end when one is close."""
    text, total = document.markdown, len(document.markdown)
    start = min(max(start, 0), total)
    end = min(start + max_chars, total)
    if end < total:
        newline = text.rfind("\n", start + int(max_chars * 0.8), end)
        if newline > start:
            end = newline + 1
    pages = [span.page for span in document.pages if span.start < end and span.end > start] if end > start else []
    if not pages and end > start:
        pages = [span.page for span in document.pages if span.start <= start <= span.end][:1]
    return Window(text=text[start:end], start=start, end=end, total=total, pages=pages)

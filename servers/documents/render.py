"""A PDF page as a PNG image, at a bounded resolution and pixel count (runs in a worker: untrusted input)."""

from __future__ import annotations

import math
from typing import Any

from memento_servers.documents.errors import BadPageSelection, CorruptDocument, LimitExceeded
from memento_servers.documents.formats.pdf import open_pdf

POINTS_PER_INCH = 72


def render_pdf_page(data: bytes, page: int, dpi: int, max_pixels: int) -> tuple[dict[str, Any], bytes]:
    """Page `page` (1-based) of a PDF as PNG bytes, with its size; refuses a render over `max_pixels`."""
    document = open_pdf(data)
    try:
        if not 1 <= page <= document.page_count:
            raise BadPageSelection(f"page={page} is out of range: the document has {document.page_count} pages")
        rect = document[page - 1].rect
        if rect.is_empty:
            raise CorruptDocument(f"page {page} has no area and cannot be rendered")
        scale = dpi / POINTS_PER_INCH
        pixels = math.ceil(rect.width * scale) * math.ceil(rect.height * scale)
        if pixels > max_pixels:
            fitting = int(POINTS_PER_INCH * math.sqrt(max_pixels / (rect.width * rect.height)))
            raise LimitExceeded(
                f"page {page} at dpi={dpi} would be {pixels:,} pixels, over the limit of {max_pixels:,} "
                f"(--max-render-pixels): ask for dpi={fitting} or less"
            )
        pixmap = document[page - 1].get_pixmap(dpi=dpi, alpha=False)
        size = {"page_count": document.page_count, "width": pixmap.width, "height": pixmap.height}
        return size, pixmap.tobytes("png")
    finally:
        document.close()

"""render_page over a real stdio session: a PDF page comes back as a PNG image, within its limits and roots."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import anyio
import pymupdf
import pytest

from tests.documents import samples
from tests.harness import connect, error_text

pytestmark = pytest.mark.anyio


async def test_a_pdf_page_renders_as_a_png_image_within_dpi_pixel_and_root_limits(tmp_path: Path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "report.pdf").write_bytes(samples.report_pdf(3))
    (root / "notes.txt").write_text("no pages here")
    (root / "truncated.pdf").write_bytes(samples.truncated_pdf())
    (tmp_path / "outside.pdf").write_bytes(samples.report_pdf(1))
    os.symlink(tmp_path / "outside.pdf", root / "escape.pdf")
    args = ["--root", str(root), "--max-render-dpi", "150", "--max-render-pixels", "1000000", "--no-cache"]
    async with connect("documents", "stdio", args=args) as client:
        with anyio.fail_after(120):
            result = await client.call_tool("render_page", {"source": "report.pdf", "page": 2, "dpi": 72})
            assert not result.is_error
            assert result.structured_content == {
                "source": "report.pdf", "page": 2, "page_count": 3, "width": 595, "height": 842, "dpi": 72, "mime_type": "image/png",
            }
            _, image = result.content
            assert image.type == "image" and image.mime_type == "image/png"
            pixmap = pymupdf.Pixmap(base64.b64decode(image.data))
            assert (pixmap.width, pixmap.height) == (595, 842)
            dark = sum(1 for value in pixmap.samples[::3] if value < 128)
            assert dark > 1000  # the page's text is drawn, not a blank image

            # an A4 page (595x842 pt) at 150 dpi is 1240x1755 = 2.2 M pixels: over the 1 M limit, refused with the dpi that fits
            refused = error_text(await client.call_tool("render_page", {"source": "report.pdf", "dpi": 150}))
            assert "over the limit of 1,000,000" in refused and "dpi=101 or less" in refused
            fits = await client.call_tool("render_page", {"source": "report.pdf", "dpi": 101})
            assert not fits.is_error
            assert "over this server's limit of 150" in error_text(
                await client.call_tool("render_page", {"source": "report.pdf", "dpi": 300})
            )
            assert "out of range: the document has 3 pages" in error_text(
                await client.call_tool("render_page", {"source": "report.pdf", "page": 9})
            )
            assert "only PDF pages can be rendered" in error_text(await client.call_tool("render_page", {"source": "notes.txt"}))
            assert "damaged or truncated" in error_text(await client.call_tool("render_page", {"source": "truncated.pdf"}))
            outside = error_text(await client.call_tool("render_page", {"source": str(tmp_path / "outside.pdf")}))
            escape = error_text(await client.call_tool("render_page", {"source": "escape.pdf"}))
            assert "root" in outside and "root" in escape

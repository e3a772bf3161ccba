"""Images: size and format metadata, and text by OCR only when the `tesseract` program is installed."""

from __future__ import annotations

import shutil
import subprocess

import pymupdf

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.model import Document

OCR_TIMEOUT_S = 60


def ocr(data: bytes) -> str | None:
    """Text recognised by tesseract, or None when no OCR engine is installed."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return None
    done = subprocess.run([tesseract, "stdin", "stdout"], input=data, capture_output=True, timeout=OCR_TIMEOUT_S, check=False)
    return done.stdout.decode("utf-8", errors="replace").strip()


def convert(data: bytes, context: Context) -> Document:
    try:
        pixmap = pymupdf.Pixmap(data)
    except (RuntimeError, ValueError) as exc:
        raise CorruptDocument(f"the image cannot be decoded ({exc})") from exc
    name = context.filename or "image"
    metadata = {"width": pixmap.width, "height": pixmap.height, "channels": pixmap.n, "bytes": len(data)}
    lines = [f"# Image: {name}", "", f"- size: {pixmap.width} x {pixmap.height} pixels", f"- bytes: {len(data)}"]
    warnings = []
    text = ocr(data)
    if text is None:
        warnings.append("no OCR engine is installed (tesseract), so text in the image was not read")
    elif text:
        lines += ["", "## Text (OCR)", "", text]
    return Document(markdown="\n".join(lines), format="image", title=name, metadata=metadata, warnings=warnings)

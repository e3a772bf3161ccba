"""Convert any supported document to markdown: the plain (MCP-free) API other servers import.

    from memento_servers.documents.convert import convert_bytes, convert_file
    document = convert_file(Path("report.pdf"))            # -> Document(markdown, format, pages, ...)
    document = convert_bytes(data, filename="a.xlsx", pages=[2])

Conversion runs in the calling process; the documents server runs it in a killable worker.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from pathlib import Path

from memento_core.units import MIB
from memento_servers.documents.context import Context
from memento_servers.documents.detect import detect_format
from memento_servers.documents.errors import (
    CorruptDocument,
    DocumentError,
    EncryptedDocument,
    LimitExceeded,
    UnsupportedFormat,
)
from memento_servers.documents.model import Document, Limits, PageBuilder, PageSpan

__all__ = [
    "CorruptDocument",
    "Document",
    "DocumentError",
    "EncryptedDocument",
    "Limits",
    "LimitExceeded",
    "PageSpan",
    "UnsupportedFormat",
    "convert_bytes",
    "convert_file",
    "detect_format",
    "select_pages",
]

log = logging.getLogger(__name__)

EMPTY_WARNING = "the file is empty (0 bytes): there is no text to read; check the path or the download"

CONVERTERS = {
    "pdf": "pdf", "docx": "word", "pptx": "slides", "xlsx": "sheets", "xls": "sheets", "csv": "sheets",
    "tsv": "sheets", "html": "html", "epub": "epub", "ipynb": "notebook", "json": "data", "jsonl": "data",
    "xml": "data", "yaml": "data", "markdown": "text", "text": "text", "zip": "archive", "image": "image",
    "msg": "outlook",
}


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip('"')
    return None


def select_pages(document: Document, pages: Iterable[int]) -> Document:
    """The document restricted to `pages` (1-based), rebuilt with fresh spans; unknown pages are skipped."""
    wanted = set(pages)
    builder = PageBuilder()
    for span in document.pages:
        if span.page in wanted:
            builder.add(span.page, document.markdown[span.start : span.end], span.label)
    return document.model_copy(update={"markdown": builder.markdown, "pages": builder.pages})


def _cap(document: Document, limits: Limits) -> Document:
    if len(document.markdown) <= limits.max_chars:
        return document
    warning = f"output cut at {limits.max_chars} characters (character limit); read it by pages instead"
    pages = [
        span.model_copy(update={"end": min(span.end, limits.max_chars)})
        for span in document.pages
        if span.start < limits.max_chars
    ]
    return document.model_copy(
        update={"markdown": document.markdown[: limits.max_chars], "pages": pages, "warnings": [*document.warnings, warning]}
    )


def convert_bytes(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    limits: Limits | None = None,
    pages: Iterable[int] | None = None,
    url: str | None = None,
    depth: int = 0,
    keep_data_uris: bool = False,
) -> Document:
    """Markdown of a document given as bytes; `filename`/`content_type` help detection, `url` resolves links.

    `pages` (1-based) converts only those pages where the format allows it (PDF), and otherwise
    selects them after conversion. Raises a `DocumentError` subclass on any failure.
    """
    limits = limits or Limits()
    if len(data) > limits.max_bytes:
        raise too_large(filename or "the document", len(data), limits)
    wanted = frozenset(pages) if pages is not None else None
    fmt = detect_format(data, filename, content_type)
    if not data:
        return Document(markdown="", format=fmt, warnings=[EMPTY_WARNING])
    context = Context(
        format=fmt, filename=filename, content_type=content_type, charset=_charset(content_type), url=url,
        limits=limits, pages=wanted, depth=depth, nested=_nested(limits, keep_data_uris), keep_data_uris=keep_data_uris,
    )
    module = importlib.import_module(f"memento_servers.documents.formats.{CONVERTERS[fmt]}")
    try:
        document = module.convert(data, context)
    except DocumentError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise LimitExceeded(f"the {fmt} document is too large or too deeply nested to convert ({type(exc).__name__})") from exc
    except Exception as exc:  # parsers raise anything on malformed input
        log.debug("conversion of %s failed", filename, exc_info=True)
        raise CorruptDocument(f"cannot read this {fmt} file: it is damaged or malformed ({type(exc).__name__}: {exc})") from exc
    if document.page_count is None and document.pages:
        document = document.model_copy(update={"page_count": len(document.pages)})
    if wanted is not None and document.pages and any(span.page not in wanted for span in document.pages):
        document = select_pages(document, wanted)
    return _cap(document, limits)


def _nested(limits: Limits, keep_data_uris: bool):
    def nested(data: bytes, filename: str, depth: int) -> Document:
        return convert_bytes(data, filename=filename, limits=limits, depth=depth, keep_data_uris=keep_data_uris)

    return nested


def too_large(name: str, size: int, limits: Limits) -> LimitExceeded:
    return LimitExceeded(
        f"{name} is {size / MIB:.1f} MB, over the {limits.max_bytes / MIB:.1f} MB limit (raise --max-file-mb to allow it)"
    )


def read_file(path: Path, limits: Limits) -> bytes:
    """A file's bytes, refused before reading when it is over the size limit."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise too_large(path.name, size, limits)
    return path.read_bytes()


def convert_file(
    path: Path, *, limits: Limits | None = None, pages: Iterable[int] | None = None, keep_data_uris: bool = False
) -> Document:
    """Markdown of a local file (no root checks here: callers confine paths)."""
    limits = limits or Limits()
    path = Path(path)
    return convert_bytes(read_file(path, limits), filename=path.name, limits=limits, pages=pages, keep_data_uris=keep_data_uris)

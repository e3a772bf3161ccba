"""Which format a document is in, from its bytes first, then its name and declared content type."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from memento_servers.documents.errors import EncryptedDocument, UnsupportedFormat

IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"GIF87a": "gif",
    b"GIF89a": "gif",
    b"II*\x00": "tiff",
    b"MM\x00*": "tiff",
    b"BM": "bmp",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXTENSIONS = {
    ".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls",
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".html": "html", ".htm": "html", ".xhtml": "html",
    ".epub": "epub", ".ipynb": "ipynb", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".xml": "xml", ".rss": "xml", ".atom": "xml", ".yaml": "yaml", ".yml": "yaml", ".md": "markdown",
    ".markdown": "markdown", ".txt": "text", ".text": "text", ".log": "text", ".zip": "zip", ".msg": "msg",
}
CONTENT_TYPES = {
    "application/pdf": "pdf", "text/html": "html", "application/xhtml+xml": "html", "text/csv": "csv",
    "text/tab-separated-values": "tsv", "application/json": "json", "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl", "text/xml": "xml", "application/xml": "xml", "application/rss+xml": "xml",
    "application/atom+xml": "xml", "application/yaml": "yaml", "text/yaml": "yaml", "application/x-yaml": "yaml",
    "text/markdown": "markdown", "text/plain": "text", "application/zip": "zip", "application/epub+zip": "epub",
    "application/x-ipynb+json": "ipynb", "application/vnd.ms-excel": "xls", "application/vnd.ms-outlook": "msg",
}
UNSUPPORTED_HINTS = {
    (b"ID3",): "MP3 audio", (b"RIFF",): "RIFF audio/video", (b"fLaC",): "FLAC audio", (b"OggS",): "Ogg media",
    (b"\x1f\x8b",): "gzip archive", (b"7z\xbc\xaf",): "7-Zip archive", (b"Rar!",): "RAR archive",
}
TEXT_FORMATS = {"html", "csv", "tsv", "json", "jsonl", "xml", "yaml", "markdown", "text", "ipynb"}


def _zip_flavour(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"  # the archive reader reports the damage
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "META-INF/container.xml" in names and "mimetype" in names:
        return "epub"
    return "zip"


def _ole_flavour(data: bytes, extension: str) -> str:
    if extension in (".xls", ".msg"):
        return EXTENSIONS[extension]
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError:
        return "xls"
    streams = {"/".join(entry) for entry in ole.listdir()}
    if "EncryptedPackage" in streams:
        raise EncryptedDocument("the Office file is password-protected (encrypted package); decrypt it first")
    if {"Workbook", "Book"} & streams:
        return "xls"
    if any(name.startswith("__substg1.0_") for name in streams):
        return "msg"
    if "WordDocument" in streams:
        raise UnsupportedFormat("legacy Word .doc files are not supported: save the file as .docx and retry")
    if "PowerPoint Document" in streams:
        raise UnsupportedFormat("legacy PowerPoint .ppt files are not supported: save the file as .pptx and retry")
    raise UnsupportedFormat("unrecognised OLE compound file (not .xls or .msg)")


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff"))


def _text_flavour(head: bytes) -> str | None:
    sample = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if sample.startswith((b"<!doctype html", b"<html")) or b"<html" in sample[:512]:
        return "html"
    if sample.startswith(b"<?xml") or sample.startswith(b"<rss") or sample.startswith(b"<feed"):
        return "xml"
    if sample.startswith((b"{", b"[")):
        return "json"
    return None


def detect_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """A short format name (pdf, docx, html, ...); raises `UnsupportedFormat` for anything else."""
    extension = PurePosixPath(filename).suffix.lower() if filename else ""
    declared = (content_type or "").split(";")[0].strip().lower()
    head = data[:4096]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_flavour(data)
    if head.startswith(OLE_MAGIC):
        return _ole_flavour(data, extension)
    for magic, name in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if _looks_binary(head):
        kind = next((name for magics, name in UNSUPPORTED_HINTS.items() if head.startswith(magics)), "binary data")
        raise UnsupportedFormat(
            f"cannot convert {filename or 'this document'}: it is {kind}, not a supported document type "
            "(PDF, DOCX, PPTX, XLSX/XLS/CSV/TSV, HTML, EPUB, IPYNB, JSON/JSONL/XML/YAML, text, ZIP, images)"
        )
    if extension in EXTENSIONS and EXTENSIONS[extension] in TEXT_FORMATS:
        found = EXTENSIONS[extension]
    elif declared in CONTENT_TYPES and CONTENT_TYPES[declared] in TEXT_FORMATS:
        found = CONTENT_TYPES[declared]
    else:
        found = _text_flavour(head) or "text"
    if found == "json" and b'"nbformat"' in data and b'"cells"' in data:
        return "ipynb"
    return found

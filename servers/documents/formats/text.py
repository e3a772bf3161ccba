"""Plain text and markdown, and the text decoding every text format shares."""

from __future__ import annotations

import codecs

from memento_servers.documents.context import Context
from memento_servers.documents.model import Document

BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Text from bytes: BOM, then the declared charset, then UTF-8, then the best detected guess."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    for encoding in filter(None, (declared, "utf-8")):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    encoding = best.encoding if best is not None else "cp1252"
    return data.decode(encoding, errors="replace")


def convert(data: bytes, context: Context) -> Document:
    text = decode_text(data, context.charset).replace("\r\n", "\n")
    title = None
    if context.format == "markdown":
        title = next((line.lstrip("#").strip() for line in text.splitlines() if line.startswith("# ")), None)
    return Document(markdown=text, format=context.format, title=title)

"""Cut long documents into overlapping chunks at paragraph, line or sentence boundaries."""

from __future__ import annotations

import re

BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+"))


def _cut_point(text: str, limit: int) -> int:
    """The last natural boundary within `text[:limit]`, preferring paragraphs, then lines, sentences, spaces."""
    window = text[:limit]
    for pattern in BREAKS:
        ends = [match.end() for match in pattern.finditer(window) if match.end() >= limit // 2]
        if ends:
            return ends[-1]
    return limit


def _next_start(text: str, cut: int, overlap: int) -> int:
    """Where the next chunk starts: the first word boundary after `cut - overlap`."""
    if not overlap:
        return cut
    match = re.compile(r"\s+").search(text, cut - overlap, cut)
    return match.end() if match else cut


def chunk_text(text: str, max_chars: int, overlap: int) -> list[str]:
    """`text` as chunks of at most `max_chars`, consecutive chunks sharing about `overlap` characters."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    overlap = min(overlap, max_chars // 4)
    chunks = []
    start = 0
    while start < len(text):
        rest = text[start:]
        if len(rest) <= max_chars:
            chunks.append(rest.strip())
            break
        cut = _cut_point(rest, max_chars)
        chunks.append(rest[:cut].strip())
        start += _next_start(rest, cut, overlap)
    return [chunk for chunk in chunks if chunk]

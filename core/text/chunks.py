"""A text as chunks for indexing or passage search: bounded, cut at natural boundaries, optionally overlapping."""

from __future__ import annotations

import re

from memento_core.text.boundaries import cut_point

_SPACE = re.compile(r"\s+")


def chunk_spans(text: str, max_chars: int, overlap: int = 0) -> list[tuple[int, int]]:
    """(start, end) offsets of chunks of `text`: at most `max_chars` each, trimmed of whitespace,
    consecutive ones sharing about `overlap` characters (at most a quarter of a chunk) from a word start."""
    text = text.rstrip()
    overlap = min(overlap, max_chars // 4)
    spans = []
    start = _skip_space(text, 0)
    while start < len(text):
        end = cut_point(text, start, max_chars)
        spans.append((start, start + len(text[start:end].rstrip())))
        if end == len(text):
            break
        start = _skip_space(text, _overlap_start(text, end, overlap))
    return spans


def chunk_text(text: str, max_chars: int, overlap: int = 0) -> list[str]:
    """The chunks of `text` themselves (see `chunk_spans`)."""
    return [text[start:end] for start, end in chunk_spans(text, max_chars, overlap)]


def _overlap_start(text: str, cut: int, overlap: int) -> int:
    """Where the chunk after a cut at `cut` starts: the first word start after `cut - overlap`."""
    if not overlap:
        return cut
    gap = _SPACE.search(text, cut - overlap, cut)
    return gap.end() if gap else cut


def _skip_space(text: str, at: int) -> int:
    gap = _SPACE.match(text, at)
    return gap.end() if gap else at

"""Cutting long markdown into slices a model can afford, at paragraph boundaries when possible."""

from __future__ import annotations


def cut_point(text: str, start: int, max_chars: int) -> int:
    """Where a slice of at most `max_chars` starting at `start` should end.

    Prefers the last paragraph break, then line break, then space, in the second half of the window,
    so slices do not end mid-word; falls back to a hard cut.
    """
    end = start + max_chars
    if end >= len(text):
        return len(text)
    floor = start + max_chars // 2
    for separator in ("\n\n", "\n", " "):
        found = text.rfind(separator, floor, end)
        if found != -1:
            return found + len(separator)
    return end


def slice_text(text: str, start: int, max_chars: int) -> tuple[str, int | None]:
    """The slice of `text` from `start` and the start of the next slice (None at the end)."""
    start = max(0, min(start, len(text)))
    end = cut_point(text, start, max_chars)
    return text[start:end], (end if end < len(text) else None)

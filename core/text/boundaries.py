"""Where to cut a text so that a piece ends at a natural boundary."""

from __future__ import annotations

import re

# Strongest first; a cut falls just after the whitespace a boundary matches.
BOUNDARIES = (
    re.compile(r"\n\s*\n"),  # paragraph
    re.compile(r"\n"),  # line
    re.compile(r"(?<=[.!?])\s+"),  # sentence
    re.compile(r"\s+"),  # word
)


def cut_point(text: str, start: int, max_chars: int) -> int:
    """Where a piece of at most `max_chars` starting at `start` should end.

    The last boundary of the strongest kind that falls in the second half of the window,
    so pieces are never shorter than half of `max_chars` nor cut inside a word when they
    can avoid it; the text's end when it is within reach; a hard cut otherwise.
    """
    end = start + max_chars
    if end >= len(text):
        return len(text)
    floor = start + max_chars // 2
    for pattern in BOUNDARIES:
        last = None
        for last in pattern.finditer(text, start, end):
            pass
        if last is not None and last.end() >= floor:
            return last.end()
    return end

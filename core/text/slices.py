"""One window of a long text at a time, and how a tool tells the caller to read on."""

from __future__ import annotations

from dataclasses import dataclass

from memento_core.text.boundaries import cut_point


@dataclass(frozen=True)
class Slice:
    """`text` is `whole[start:end]` of a text `total` characters long."""

    text: str
    start: int
    end: int
    total: int

    @property
    def next_start(self) -> int | None:
        """Where the next slice starts; None when this one reaches the end."""
        return self.end if self.end < self.total else None


def slice_text(text: str, start: int, max_chars: int) -> Slice:
    """At most `max_chars` of `text` from `start` (clamped to the text), ending at a natural boundary."""
    start = max(0, min(start, len(text)))
    end = cut_point(text, start, max_chars)
    return Slice(text[start:end], start, end, len(text))


def continuation_note(part: Slice, **same: object) -> str | None:
    """The note every paging tool returns when `part` is not the end, naming the next start_index
    and any argument (`same`) the next call must repeat; None at the end."""
    if part.next_start is None:
        return None
    again = " and ".join(f"{name}={value!r}" for name, value in {"start_index": part.next_start, **same}.items())
    return f"characters {part.start}-{part.end} of {part.total} shown; to read on, call again with {again}"


# How every paging tool describes its paging arguments and results, in the same words.
START_INDEX_DOC = "Character offset to start at: 0, or the next_start_index of the previous call."
MAX_CHARS_DOC = "Most characters to return; a slice ends at a paragraph, line, sentence or word boundary if it has one"
NEXT_START_INDEX_DOC = "Pass as start_index to read on; null when this slice reaches the end."

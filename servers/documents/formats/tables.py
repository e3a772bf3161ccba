"""Markdown tables from rows of cells, shared by every tabular format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from typing import Any


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime) and value.time() == time(0):
        value = value.date()
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table; the first row is the header, short rows are padded."""
    cells = [[cell_text(v) for v in row] for row in rows]
    if not cells:
        return ""
    width = max(len(row) for row in cells)
    if width == 0:
        return ""
    cells = [row + [""] * (width - len(row)) for row in cells]
    head, *body = cells
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in body)
    return "\n".join(lines)

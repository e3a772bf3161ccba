"""Tables in a PDF text layer, found from column-aligned rows of short cells (no drawing analysis).

Rows are lines at the same height across blocks; a cell is a run of spans with no wide gap.
Three or more consecutive rows of two or more short cells (or two rows of three or more)
whose left edges share columns become one markdown table, placed where its first line was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from memento_servers.documents.formats.tables import markdown_table

MAX_CELL_CHARS = 60
MIN_ROWS = 3


@dataclass
class Line:
    text: str
    bbox: tuple[float, float, float, float]
    size: float
    bold: bool = False
    mono: bool = False
    spans: list[tuple[float, float, str]] = field(default_factory=list)
    item: str | None = None  # list marker ("1.", "-") that was set apart from the text


@dataclass
class Cell:
    x0: float
    x1: float
    text: str


@dataclass
class Row:
    y0: float
    y1: float
    cells: list[Cell]
    members: list[tuple[int, int]]  # (block index, line index)


def cells_of(line: Line) -> list[Cell]:
    """Split a line where the horizontal gap between spans is wider than about one character."""
    gap = max(line.size * 1.0, 4.0)
    cells: list[Cell] = []
    for x0, x1, text in line.spans:
        if cells and x0 - cells[-1].x1 <= gap:
            cells[-1].text += (" " if x0 - cells[-1].x1 > line.size * 0.2 else "") + text
            cells[-1].x1 = x1
        else:
            cells.append(Cell(x0, x1, text))
    return cells


def _rows(blocks: list[list[Line]]) -> list[Row]:
    entries = sorted(
        ((b, i, line) for b, block in enumerate(blocks) for i, line in enumerate(block)),
        key=lambda e: ((e[2].bbox[1] + e[2].bbox[3]) / 2, e[2].bbox[0]),
    )
    rows: list[Row] = []
    for b, i, line in entries:
        y0, y1 = line.bbox[1], line.bbox[3]
        middle = (y0 + y1) / 2
        if rows and rows[-1].y0 <= middle <= rows[-1].y1:
            row = rows[-1]
            row.cells.extend(cells_of(line))
            row.members.append((b, i))
            row.y0, row.y1 = min(row.y0, y0), max(row.y1, y1)
        else:
            rows.append(Row(y0, y1, cells_of(line), [(b, i)]))
    for row in rows:
        row.cells.sort(key=lambda c: c.x0)
    return rows


def _is_candidate(row: Row) -> bool:
    return len(row.cells) >= 2 and all(len(c.text) <= MAX_CELL_CHARS for c in row.cells)


def _columns(rows: list[Row], tolerance: float) -> list[float]:
    anchors: list[float] = []
    for x in sorted(c.x0 for row in rows for c in row.cells):
        if not anchors or x - anchors[-1] > tolerance:
            anchors.append(x)
    return anchors


def _grid(rows: list[Row], tolerance: float) -> list[list[str]] | None:
    anchors = _columns(rows, tolerance)
    if len(anchors) < 2 or len(anchors) > 2 * max(len(r.cells) for r in rows):
        return None
    grid = []
    for row in rows:
        cells = [""] * len(anchors)
        for cell in row.cells:
            column = max(k for k, a in enumerate(anchors) if a <= cell.x0 + tolerance)
            cells[column] = (cells[column] + " " + cell.text).strip()
        grid.append(cells)
    used = [k for k in range(len(anchors)) if sum(1 for r in grid if r[k]) >= 2]
    if len(used) < 2:
        return None
    return [[r[k] for k in used] for r in grid]


def _runs(rows: list[Row]) -> list[list[Row]]:
    runs: list[list[Row]] = []
    current: list[Row] = []
    for row in rows + [Row(0, 0, [], [])]:
        if _is_candidate(row):
            current.append(row)
            continue
        if len(current) >= MIN_ROWS or (len(current) == 2 and min(len(r.cells) for r in current) >= 3):
            runs.append(current)
        current = []
    return runs


def split_tables(blocks: list[list[Line]]) -> list[list[Line] | str]:
    """The page's blocks in order, with table lines taken out and each table as a markdown string."""
    if len(blocks) < 2 and sum(len(b) for b in blocks) < MIN_ROWS:
        return list(blocks)
    size = max((line.size for block in blocks for line in block), default=10.0)
    tables: dict[int, str] = {}
    taken: set[tuple[int, int]] = set()
    for run in _runs(_rows(blocks)):
        grid = _grid(run, tolerance=size * 0.8)
        if grid is None:
            continue
        members = [m for row in run for m in row.members]
        taken.update(members)
        tables[min(b for b, _ in members)] = markdown_table(grid)
    if not tables:
        return list(blocks)
    out: list[list[Line] | str] = []
    for b, block in enumerate(blocks):
        if b in tables:
            out.append(tables[b])
        rest = [line for i, line in enumerate(block) if (b, i) not in taken]
        if rest:
            out.append(rest)
    return out

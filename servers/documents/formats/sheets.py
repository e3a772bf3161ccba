"""Spreadsheets (XLSX, XLS) and delimited text (CSV, TSV) as markdown tables, paginated by rows.

Each sheet is one page, split into several pages of `ROWS_PER_PAGE` rows (header repeated)
when it is long; at most `limits.max_rows` rows per sheet are read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument, EncryptedDocument
from memento_servers.documents.formats.tables import markdown_table
from memento_servers.documents.formats.text import decode_text
from memento_servers.documents.model import Document, PageBuilder

ROWS_PER_PAGE = 200


def _trimmed(rows: Iterable[Iterable], limit: int) -> tuple[list[list], bool]:
    """Up to `limit` rows without trailing empty cells and rows; True when rows were left out."""
    out: list[list] = []
    for row in rows:
        if len(out) >= limit:
            return out, True
        cells = list(row)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out, False


def _sheet_pages(name: str | None, rows: list[list]) -> Iterator[tuple[str, str]]:
    """(label, markdown) per page of a sheet; long sheets repeat the header row on every page."""
    heading = f"## {name}\n\n" if name else ""
    if not rows:
        yield name or "sheet", heading + "(empty sheet)"
        return
    header, body = rows[0], rows[1:]
    if len(body) <= ROWS_PER_PAGE:
        yield name or "table", heading + markdown_table(rows)
        return
    for start in range(0, len(body), ROWS_PER_PAGE):
        chunk = body[start : start + ROWS_PER_PAGE]
        label = f"{name or 'table'} rows {start + 2}-{start + len(chunk) + 1}"
        yield label, f"{heading.rstrip()} (rows {start + 2}-{start + len(chunk) + 1})\n\n".lstrip() + markdown_table([header, *chunk])


def _build(sheets: Iterable[tuple[str | None, Iterable[Iterable]]], context: Context, fmt: str) -> Document:
    builder = PageBuilder()
    warnings, names = [], []
    number = 0
    for name, rows in sheets:
        names.append(name)
        table, cut = _trimmed(rows, context.limits.max_rows)
        if cut:
            warnings.append(f"sheet {name or 1}: only the first {context.limits.max_rows} rows were read (row limit)")
        for label, text in _sheet_pages(name, table):
            number += 1
            builder.add(number, text, label=label)
    metadata = {"sheets": [n for n in names if n]} if any(names) else {}
    return Document(markdown=builder.markdown, format=fmt, pages=builder.pages, metadata=metadata, warnings=warnings)


def _xlsx(data: bytes) -> Iterator[tuple[str, Iterable[Iterable]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        if b"EncryptedPackage" in data[:4096] or "encrypt" in str(exc).lower():
            raise EncryptedDocument("the workbook is password-protected; decrypt it first") from exc
        raise CorruptDocument(f"the workbook is damaged or not an .xlsx ({exc})") from exc
    try:
        for sheet in workbook.worksheets:
            yield sheet.title, sheet.iter_rows(values_only=True)
    finally:
        workbook.close()


def _xls(data: bytes) -> Iterator[tuple[str, Iterable[Iterable]]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except xlrd.XLRDError as exc:
        raise CorruptDocument(f"the .xls workbook cannot be read ({exc})") from exc
    for sheet in book.sheets():
        yield sheet.name, (sheet.row_values(i) for i in range(sheet.nrows))


def _delimited(data: bytes, context: Context) -> Iterator[tuple[None, Iterable[Iterable]]]:
    text = decode_text(data, context.charset)
    delimiter = "\t" if context.format == "tsv" else ","
    if context.format == "csv":
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            pass
    yield None, csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def convert(data: bytes, context: Context) -> Document:
    if context.format == "xlsx":
        return _build(_xlsx(data), context, "xlsx")
    if context.format == "xls":
        return _build(_xls(data), context, "xls")
    return _build(_delimited(data, context), context, context.format)

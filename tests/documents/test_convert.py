"""The plain conversion API (no MCP): formats, limits, pages, and the helpers behind the tools."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from memento_servers.documents.cache import DocumentCache
from memento_servers.documents.convert import (
    CorruptDocument,
    Document,
    LimitExceeded,
    Limits,
    UnsupportedFormat,
    convert_bytes,
    convert_file,
    detect_format,
    select_pages,
)
from memento_servers.documents.errors import BadPageSelection, SourceRefused
from memento_servers.documents.find import PassageIndex
from memento_servers.documents.formats.html import unwrap_link
from memento_servers.documents.formats.pdf_tables import Line, split_tables
from memento_servers.documents.model import PageBuilder
from memento_servers.documents.paginate import parse_pages, window
from memento_servers.documents.sources import resolve_source
from tests.documents import samples


@pytest.mark.parametrize(("group", "vector"), samples.vectors(), ids=lambda v: v if isinstance(v, str) else v["filename"])
def test_conversion_passes_markitdown_test_vector(group, vector):
    content_type = vector["mimetype"] + (f"; charset={vector['charset']}" if vector["charset"] else "")
    document = convert_bytes(
        (samples.DATA / vector["filename"]).read_bytes(), filename=vector["filename"], content_type=content_type,
        url=vector["url"], keep_data_uris=group == "DATA_URI_TEST_VECTORS",
    )
    assert samples.check_vector(document.markdown, vector) == []


def test_files_convert_by_their_bytes_and_name_alone():
    for name in ("test_mskanji.csv", "test_notebook.ipynb", "test_rss.xml", "test_files.zip"):
        document = convert_file(samples.DATA / name)
        vector = next(v for _, v in samples.vectors() if v["filename"] == name)
        assert samples.check_vector(document.markdown, vector) == [], name


def test_pdf_converts_only_requested_pages_with_structure():
    data = samples.report_pdf(5)
    document = convert_bytes(data, pages=[2, 4])
    assert [span.page for span in document.pages] == [2, 4] and document.page_count == 5
    second = document.markdown[document.pages[0].start : document.pages[0].end]
    assert second.startswith("# Chapter 2: findings")
    assert "- bullet 1 on page 2" in second and "| r1c0p2 | r1c1p2 | r1c2p2 |" in second
    full = convert_bytes(data)
    assert second == full.markdown[full.pages[1].start : full.pages[1].end]


def test_pdf_links_become_markdown_links_on_their_words():
    markdown = convert_bytes(samples.linked_pdf()).markdown
    assert "See the [project page](https://example.org/project) for details." in markdown
    assert "https://example.org/raw" in markdown and "[https://example.org/raw]" not in markdown


def test_pages_without_a_text_layer_are_named_in_a_warning():
    document = convert_bytes(samples.scanned_pdf())
    assert document.page_count == 2 and any("no text layer" in w and "1, 2" in w for w in document.warnings)


def test_damaged_and_protected_files_raise_clear_errors():
    with pytest.raises(Exception, match="password-protected"):
        convert_bytes(samples.encrypted_pdf())
    with pytest.raises(CorruptDocument, match="damaged or truncated"):
        convert_bytes(samples.truncated_pdf())
    with pytest.raises(CorruptDocument):
        convert_bytes(b"PK\x03\x04" + b"\0" * 100, filename="broken.docx")
    with pytest.raises(UnsupportedFormat, match="MP3 audio"):
        convert_bytes(b"ID3\x03\x00\x00\x00" + b"\0" * 100, filename="song.mp3")


def test_archive_limits_stop_bombs_before_reading():
    with pytest.raises(LimitExceeded, match="zip bomb"):
        convert_bytes(samples.zip_bomb(), filename="bomb.zip")
    with pytest.raises(LimitExceeded, match="members"):
        convert_bytes(samples.many_members_zip(20), filename="many.zip", limits=Limits(max_archive_members=10))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x" * 5000)
    with pytest.raises(LimitExceeded, match="expand"):
        convert_bytes(buffer.getvalue(), filename="a.zip", limits=Limits(max_uncompressed_bytes=1000))
    with pytest.raises(LimitExceeded, match="MB limit"):
        convert_bytes(b"x" * 2000, limits=Limits(max_bytes=1000))


def test_nested_archives_stop_at_the_nesting_limit():
    inner = samples.many_members_zip(2)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner.zip", inner)
    document = convert_bytes(buffer.getvalue(), filename="outer.zip", limits=Limits(max_nesting=0))
    assert "nesting limit" in document.markdown
    assert "note 1" in convert_bytes(buffer.getvalue(), filename="outer.zip").markdown


def test_detection_uses_magic_before_names():
    assert detect_format(samples.report_pdf(1), "misnamed.txt") == "pdf"
    assert detect_format((samples.DATA / "test.docx").read_bytes(), None) == "docx"
    assert detect_format(b"<!DOCTYPE html><html></html>", None) == "html"
    assert detect_format(b'{"cells": [], "nbformat": 4}', "x.json") == "ipynb"
    assert detect_format(b"a,b\n1,2\n", None, "text/csv") == "csv"


def test_page_selections_parse_and_reject_nonsense():
    assert parse_pages("2,4,10-12") == [2, 4, 10, 11, 12]
    assert parse_pages(None) is None and parse_pages(" ") is None
    for bad in ("0", "5-2", "a-b"):
        with pytest.raises(BadPageSelection):
            parse_pages(bad)


def test_windows_concatenate_to_the_document_and_report_pages():
    builder = PageBuilder()
    for page in range(1, 8):
        builder.add(page, "\n".join(f"page {page} line {k}" for k in range(40)))
    document = Document(markdown=builder.markdown, format="text", pages=builder.pages)
    parts, start, covered = [], 0, set()
    while start is not None:
        part = window(document, start, 700)
        parts.append(part.text)
        covered.update(part.pages)
        start = part.next_start
    assert "".join(parts) == document.markdown and covered == set(range(1, 8))
    assert select_pages(document, [3]).markdown == document.markdown[builder.pages[2].start : builder.pages[2].end]


def test_sources_stay_inside_roots(tmp_path: Path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("a")
    (tmp_path / "outside.txt").write_text("b")
    os.symlink(tmp_path / "outside.txt", root / "link.txt")
    assert resolve_source("sub/../sub/a.txt", [root]).path == (root / "sub" / "a.txt").resolve()
    for bad in ("../outside.txt", str(tmp_path / "outside.txt"), "link.txt", "file:///etc/passwd", (tmp_path / "outside.txt").as_uri()):
        with pytest.raises(SourceRefused, match="outside the allowed roots"):
            resolve_source(bad, [root])
    assert resolve_source((root / "sub" / "a.txt").as_uri(), [root]).path == (root / "sub" / "a.txt").resolve()
    with pytest.raises(SourceRefused, match="refused"):
        resolve_source("ftp://example.com/a", [root])
    with pytest.raises(SourceRefused, match="of this machine"):
        resolve_source("file://fileserver/share/a.txt", [root])
    assert resolve_source("https://example.com/a.pdf", [root]).url == "https://example.com/a.pdf"
    with pytest.raises(SourceRefused, match="directory"):
        resolve_source("sub", [root])


def test_search_ranks_exact_phrases_first_with_pages():
    builder = PageBuilder()
    builder.add(1, "The harbour report lists tides and boats. " * 5)
    builder.add(2, "Rare phrase: quartz lantern inventory.")
    builder.add(3, "Lantern repairs and quartz supplies are discussed separately.")
    document = Document(markdown=builder.markdown, format="pdf", pages=builder.pages)
    hits = PassageIndex(document).search("quartz lantern", 5)
    assert hits[0].chunk.page == 2 and hits[0].exact and {h.chunk.page for h in hits} == {2, 3}


def test_cache_round_trips_documents(tmp_path: Path):
    cache = DocumentCache(tmp_path, max_bytes=1 << 20)
    document = Document(markdown="# x", format="markdown", title="x")
    key = cache.key("digest", "all")
    cache.put(key, document)
    assert DocumentCache(tmp_path, max_bytes=1 << 20).get(key) == document
    assert DocumentCache(None, max_bytes=1 << 20).get(key) is None


def test_column_aligned_short_rows_become_a_table_but_prose_columns_do_not():
    def line(x: float, y: float, *cells: str, size: float = 10) -> Line:
        spans, left = [], x
        for text in cells:
            spans.append((left, left + 6 * len(text), text))
            left += 6 * len(text) + 60
        return Line(text=" ".join(cells), bbox=(x, y, left, y + size), size=size, spans=spans)

    table = [[line(72, 100 + 14 * k, f"name{k}", f"{k * 3}", f"city{k}")] for k in range(4)]
    out = split_tables(table)
    assert len(out) == 1 and out[0].startswith("| name0 | 0 | city0 |")
    prose = "a long sentence of running text that fills most of one column in the page"
    columns = [[line(50, 100 + 14 * k, prose), line(320, 100 + 14 * k, prose)] for k in range(4)]
    assert all(not isinstance(item, str) for item in split_tables(columns))


def test_links_from_search_engines_are_unwrapped():
    assert unwrap_link("https://www.google.com/url?q=https://example.org/a&sa=U") == "https://example.org/a"
    assert unwrap_link("https://example.org/plain") == "https://example.org/plain"


def test_html_nested_too_deeply_for_markdown_falls_back_to_text():
    html = b"<html><body><p>top</p>" + b"<div>" * 2000 + b"deep" + b"</div>" * 2000
    document = convert_bytes(html, filename="deep.html")
    assert document.markdown.endswith("deep") and "plain text" in document.warnings[0]


def test_table_cells_are_plain_text():
    from datetime import datetime

    from memento_servers.documents.formats.tables import markdown_table

    table = markdown_table([["day", "count", "note"], [datetime(2024, 1, 2), 3.0, "a|b\nc"]])
    assert table.splitlines()[-1] == "| 2024-01-02 | 3 | a\\|b c |"


def test_long_sheets_are_paginated_by_rows_with_the_header_repeated():
    rows = "id,name\n" + "".join(f"{k},item {k}\n" for k in range(450))
    document = convert_bytes(rows.encode(), filename="long.csv")
    assert [span.label for span in document.pages] == ["table rows 2-201", "table rows 202-401", "table rows 402-451"]
    last = document.markdown[document.pages[2].start : document.pages[2].end]
    assert "| id | name |" in last and "| 449 | item 449 |" in last
    capped = convert_bytes(rows.encode(), filename="long.csv", limits=Limits(max_rows=100))
    assert "| 98 | item 98 |" in capped.markdown and "item 99 " not in capped.markdown and "row limit" in capped.warnings[0]


def test_settings_refuse_roots_that_are_not_folders(tmp_path: Path):
    from pydantic import ValidationError

    from memento_servers.documents.config import DocumentsSettings

    with pytest.raises(ValidationError, match="not an existing folder"):
        DocumentsSettings(roots=[tmp_path / "missing"])
    settings = DocumentsSettings(roots=[tmp_path], max_file_mb=2)
    assert settings.roots == [tmp_path.resolve()] and settings.service_config().limits.max_bytes == 2 * 1024 * 1024

"""Documents made on the fly for tests and benchmarks: generated PDFs, damaged files, a zip bomb."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "documents"


def vectors() -> list[tuple[str, dict]]:
    """(group, vector) for every MarkItDown test vector; group DATA_URI means keep_data_uris."""
    table = json.loads((DATA / "test_vectors.json").read_text())
    return [(group, vector) for group in ("GENERAL_TEST_VECTORS", "DATA_URI_TEST_VECTORS") for vector in table[group]]


def check_vector(markdown: str, vector: dict) -> list[str]:
    """The vector's failures on `markdown` (empty when it passes)."""
    missing = [f"missing {s!r}" for s in vector["must_include"] if s not in markdown]
    present = [f"unwanted {s!r}" for s in vector["must_not_include"] if s in markdown]
    return missing + present


def report_pdf(pages: int = 300) -> bytes:
    """A PDF of `pages` pages with headings, paragraphs, bullets and a small table on every page."""
    import pymupdf

    document = pymupdf.open()
    for number in range(1, pages + 1):
        page = document.new_page()
        page.insert_text((72, 72), f"Chapter {number}: findings", fontsize=20)
        lines = [f"Paragraph line {k} of page {number} reports measured value {number * 7 + k}." for k in range(12)]
        page.insert_text((72, 110), lines, fontsize=10, lineheight=1.4)
        page.insert_text((80, 290), [f"\u2022 bullet {k} on page {number}" for k in range(3)], fontsize=10, lineheight=1.4)
        for column, x in enumerate((72, 200, 330)):
            cells = [("Item", "Count", "Price")[column]] + [f"r{row}c{column}p{number}" for row in range(1, 4)]
            page.insert_text((x, 350), cells, fontsize=10, lineheight=1.4)
    if pages >= 42:
        document[41].insert_text((72, 700), "The unique marker zebra-quartz-42 appears only here.", fontsize=10)
    data = document.tobytes()
    document.close()
    return data


def repeated_pdf(data: bytes, copies: int) -> bytes:
    """`copies` copies of a PDF's pages in one PDF: a big document, made much faster than page by page."""
    import pymupdf

    source, document = pymupdf.open(stream=data, filetype="pdf"), pymupdf.open()
    for _ in range(copies):
        document.insert_pdf(source)
    data = document.tobytes()
    document.close()
    return data


def linked_pdf() -> bytes:
    """One line whose middle words are a URI link, and a bare URL that links to itself."""
    import pymupdf

    document = pymupdf.open()
    page = document.new_page()
    page.insert_text((72, 72), "See the project page for details.", fontsize=11)
    page.insert_link({"kind": pymupdf.LINK_URI, "from": page.search_for("project page")[0], "uri": "https://example.org/project"})
    page.insert_text((72, 100), "https://example.org/raw", fontsize=11)
    page.insert_link({"kind": pymupdf.LINK_URI, "from": page.search_for("https://example.org/raw")[0], "uri": "https://example.org/raw"})
    data = document.tobytes()
    document.close()
    return data


def scanned_pdf() -> bytes:
    """Two pages that are only an image, as a scanner makes them."""
    import pymupdf

    document = pymupdf.open()
    for _ in range(2):
        document.new_page().insert_image(pymupdf.Rect(72, 72, 272, 222), stream=png())
    data = document.tobytes()
    document.close()
    return data


def encrypted_pdf() -> bytes:
    import pymupdf

    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "secret text")
    data = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="user")
    document.close()
    return data


def truncated_pdf() -> bytes:
    """The first 40% of a real PDF: no xref, no trailer, most objects gone."""
    data = (DATA / "test.pdf").read_bytes()
    return data[: int(len(data) * 0.4)]


def zip_bomb(members: int = 1, member_mb: int = 20) -> bytes:
    """A small archive whose members expand to `members` x `member_mb` MB of zeros (ratio about 1000)."""
    buffer = io.BytesIO()
    chunk = b"\0" * (1 << 20)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for k in range(members):
            with archive.open(f"zeros-{k}.txt", "w", force_zip64=True) as handle:
                for _ in range(member_mb):
                    handle.write(chunk)
    return buffer.getvalue()


def many_members_zip(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for k in range(count):
            archive.writestr(f"note-{k}.txt", f"note {k}")
    return buffer.getvalue()


def png() -> bytes:
    import pymupdf

    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 30), False)
    pixmap.clear_with(200)
    return pixmap.tobytes("png")

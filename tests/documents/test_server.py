"""memento-documents over real MCP sessions (stdio and streamable HTTP): formats, safety limits, pagination, URLs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import anyio
import pytest

from tests.documents import samples
from tests.fakes.site import LocalSite
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

FORMATS = {
    "test.docx": "docx", "test.xlsx": "xlsx", "test.xls": "xls", "test.pptx": "pptx", "test_outlook_msg.msg": "msg",
    "test.pdf": "pdf", "test_blog.html": "html", "test_wikipedia.html": "html", "test_serp.html": "html",
    "test_mskanji.csv": "csv", "test.json": "json", "test_rss.xml": "rss", "test_notebook.ipynb": "ipynb",
    "test_files.zip": "zip", "test.epub": "epub",
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An allowed root with the real fixtures, generated documents and traps pointing outside it."""
    folder = tmp_path / "root"
    shutil.copytree(samples.DATA, folder)
    (folder / "report.pdf").write_bytes(samples.report_pdf(60))
    (folder / "encrypted.pdf").write_bytes(samples.encrypted_pdf())
    (folder / "truncated.pdf").write_bytes(samples.truncated_pdf())
    (folder / "bomb.zip").write_bytes(samples.zip_bomb())
    (folder / "crowded.zip").write_bytes(samples.many_members_zip(600))
    (folder / "big.txt").write_bytes(b"x" * (1024 * 1024 + 10))
    (folder / "picture.png").write_bytes(samples.png())
    (folder / "data.yaml").write_text("name: memento\nitems: [1, 2]\n")
    (folder / "rows.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    (folder / "notes.md").write_text("# Notes\n\nplain markdown\n")
    (folder / "notes.txt").write_text("plain text notes\n")
    (folder / "plain.xml").write_text("<catalog><book id='7'><title>Tide tables</title></book></catalog>")
    (folder / "table.tsv").write_text("k\tv\nalpha\t1\n")
    (folder / "noise.bin").write_bytes(bytes(range(256)) * 4)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the root")
    os.symlink(secret, folder / "escape.txt")
    return folder


async def read_all(client, source: str, **arguments) -> str:
    """Concatenate every slice of a document, following next_start_index."""
    parts, start = [], 0
    while start is not None:
        data = payload(await client.call_tool("read_document", {"source": source, "start_index": start, **arguments}))
        parts.append(data["markdown"])
        start = data["next_start_index"]
    return "".join(parts)


async def test_every_format_passes_its_test_vectors_and_limits_hold(root: Path, transport: str):
    args = ["--root", str(root), "--max-file-mb", "1", "--allow-host", "127.0.0.1", "--timeout-s", "120"]
    async with connect("documents", transport, args=args) as client:
        with anyio.fail_after(240):
            # the tool contract: names and parameters
            tools = {t.name: set(t.input_schema["properties"]) for t in (await client.list_tools()).tools}
            assert tools == {
                "read_document": {"source", "pages", "max_chars", "start_index"},
                "document_info": {"source"},
                "find_in_document": {"source", "query", "max_results"},
                "render_page": {"source", "page", "dpi"},
                "server_info": set(),
            }
            # every format, every vector (MarkItDown's test vectors; data-URI vectors are a library option)
            for _, vector in [v for v in samples.vectors() if v[0] == "GENERAL_TEST_VECTORS"]:
                data = payload(await client.call_tool("read_document", {"source": vector["filename"], "max_chars": 500_000}))
                assert data["format"] == FORMATS[vector["filename"]]
                assert data["next_start_index"] is None or data["total_chars"] > 500_000
                assert samples.check_vector(data["markdown"], vector) == [], vector["filename"]

            for name, fmt in (("data.yaml", "yaml"), ("rows.jsonl", "jsonl"), ("notes.md", "markdown"), ("table.tsv", "tsv"), ("picture.png", "image"),
                          ("notes.txt", "text"), ("plain.xml", "xml")):
                data = payload(await client.call_tool("read_document", {"source": name}))
                assert data["format"] == fmt, name
            assert "40 x 30" in payload(await client.call_tool("read_document", {"source": "picture.png"}))["markdown"]
            assert "| alpha | 1 |" in payload(await client.call_tool("read_document", {"source": "table.tsv"}))["markdown"]
            assert "<title>Tide tables</title>" in payload(await client.call_tool("read_document", {"source": "plain.xml"}))["markdown"]

            # pagination: slices of a 60-page PDF concatenate to the whole document; pages select pages
            whole = payload(await client.call_tool("read_document", {"source": "report.pdf", "max_chars": 500_000}))
            assert whole["page_count"] == 60 and whole["next_start_index"] is None
            assert await read_all(client, "report.pdf", max_chars=3000) == whole["markdown"]
            first = payload(await client.call_tool("read_document", {"source": "report.pdf", "max_chars": 3000}))
            assert f"start_index={first['next_start_index']}" in first["note"]
            page = payload(await client.call_tool("read_document", {"source": "report.pdf", "pages": "42"}))
            assert page["pages"] == [42] and page["markdown"].startswith("# Chapter 42")
            assert "| Item | Count | Price |" in page["markdown"] and "- bullet 0 on page 42" in page["markdown"]
            assert page["markdown"] in whole["markdown"]
            slides = payload(await client.call_tool("read_document", {"source": "test.pptx", "pages": "3-4"}))
            assert slides["pages"] == [3, 4] and "Slide number: 2 " not in slides["markdown"]
            assert "out of range" in error_text(await client.call_tool("read_document", {"source": "report.pdf", "pages": "99"}))
            assert "'1-5'" in error_text(await client.call_tool("read_document", {"source": "report.pdf", "pages": "first"}))

            # info without conversion, and search by page
            info = payload(await client.call_tool("document_info", {"source": "report.pdf"}))
            assert info["format"] == "pdf" and info["page_count"] == 60 and info["size_bytes"] > 0
            sheets = payload(await client.call_tool("document_info", {"source": "test.xlsx"}))
            assert sheets["page_labels"] == ["Sheet1", "09060124-b5e7-4717-9d07-3c046eb"]
            found = payload(await client.call_tool("find_in_document", {"source": "report.pdf", "query": "zebra-quartz-42"}))
            assert found["passages"][0]["page"] == 42 and found["passages"][0]["exact"]
            words = payload(await client.call_tool("find_in_document", {"source": "test.docx", "query": "multi-agent conversation framework", "max_results": 3}))
            assert 1 <= len(words["passages"]) <= 3 and words["method"] == "bm25"

            # path escapes: '..', absolute paths outside, symlinks out of the root, file:// URLs
            for source in ("../secret.txt", str(root.parent / "secret.txt"), "escape.txt", "/etc/passwd"):
                assert "outside the allowed roots" in error_text(await client.call_tool("read_document", {"source": source}))
            by_url = payload(await client.call_tool("read_document", {"source": f"file://{root}/test.pdf"}))  # a file:// URL is its path
            assert by_url["format"] == "pdf" and by_url["page_count"] == 1
            assert "outside the allowed roots" in error_text(await client.call_tool("read_document", {"source": "file:///etc/passwd"}))
            assert "does not exist" in error_text(await client.call_tool("document_info", {"source": "missing.pdf"}))

            # damaged, protected, oversized, bombs, unknown types: clear errors, and the server keeps serving
            assert "password-protected" in error_text(await client.call_tool("read_document", {"source": "encrypted.pdf"}))
            assert "damaged or truncated" in error_text(await client.call_tool("read_document", {"source": "truncated.pdf"}))
            assert "over the 1.0 MB limit" in error_text(await client.call_tool("read_document", {"source": "big.txt"}))
            assert "zip bomb" in error_text(await client.call_tool("read_document", {"source": "bomb.zip"}))
            assert "600 members" in error_text(await client.call_tool("read_document", {"source": "crowded.zip"}))
            assert "not a supported document type" in error_text(await client.call_tool("read_document", {"source": "noise.bin"}))
            assert payload(await client.call_tool("read_document", {"source": "test.json"}))["format"] == "json"

            # the cache is keyed by content: a changed file is read afresh
            (root / "draft.txt").write_text("first draft")
            assert payload(await client.call_tool("read_document", {"source": "draft.txt"}))["markdown"] == "first draft"
            (root / "draft.txt").write_text("second, longer draft")
            assert payload(await client.call_tool("read_document", {"source": "draft.txt"}))["markdown"] == "second, longer draft"
            (root / "same.csv").write_text("a,b\n1,2\n")
            (root / "same.txt").write_text("a,b\n1,2\n")
            assert payload(await client.call_tool("read_document", {"source": "same.csv"}))["format"] == "csv"
            assert payload(await client.call_tool("read_document", {"source": "same.txt"}))["format"] == "text"

            # URLs go through the shared SSRF-safe fetcher
            with LocalSite() as site:
                url = site.add("/paper.pdf", (root / "test.pdf").read_bytes(), "application/pdf")
                data = payload(await client.call_tool("read_document", {"source": url}))
                assert data["format"] == "pdf" and "contemporaneous exploration of multi-agent" in data["markdown"]
                page = payload(await client.call_tool("read_document", {"source": site.url("/files/report.pdf"), "pages": "2"}))
                assert page["pages"] == [2]
            refused = error_text(await client.call_tool("read_document", {"source": "http://169.254.169.254/latest/meta-data"}))
            assert "169.254.169.254" in refused


async def test_a_conversion_over_the_time_limit_is_stopped_and_the_server_keeps_serving(tmp_path: Path):
    (tmp_path / "long.pdf").write_bytes(samples.repeated_pdf(samples.report_pdf(250), 8))  # 2000 pages: seconds to convert, not 0.2 s
    (tmp_path / "short.txt").write_text("still here")
    args = ["--root", str(tmp_path), "--timeout-s", "0.2", "--workers", "1", "--no-cache"]
    async with connect("documents", "stdio", args=args) as client:
        with anyio.fail_after(120):
            assert "longer than 0.2 s" in error_text(await client.call_tool("read_document", {"source": "long.pdf", "pages": "1-2000"}))
            data = payload(await client.call_tool("read_document", {"source": "short.txt"}))
            assert data["markdown"] == "still here"

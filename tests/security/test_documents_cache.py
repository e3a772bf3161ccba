"""memento-documents' conversion cache over MCP: capped in bytes (oldest evicted), and empty files say so."""

from __future__ import annotations

import base64
import os
import sqlite3
from pathlib import Path

import anyio
import pytest

from tests.harness import connect, payload

pytestmark = pytest.mark.anyio

CAP_MB = 0.02  # 20 KiB of entries
FILES = 12  # ~6 KB of gzip'd conversion each: about four times the cap


def _entries(home: Path) -> tuple[int, int]:
    """Entries in the documents cache and their total size in bytes."""
    with sqlite3.connect(home / "cache" / "documents" / "documents.sqlite") as db:
        return db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM entries").fetchone()


async def test_writing_past_the_cache_cap_evicts_the_oldest_entries(tmp_path: Path, _isolated_home: Path):
    # "text " first: random base64 could begin with a format signature ("BM" is a BMP header) and be read as that format
    texts = {f"doc{i}.txt": "text " + base64.b64encode(os.urandom(6000)).decode() for i in range(FILES)}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    async with connect("documents", args=["--root", str(tmp_path), "--cache-mb", str(CAP_MB)]) as client:
        with anyio.fail_after(120):
            assert payload(await client.call_tool("server_info", {}))["settings"]["cache_mb"] == CAP_MB
            for name, text in texts.items():
                read = payload(await client.call_tool("read_document", {"source": name, "max_chars": 100_000}))
                assert read["markdown"] == text
                count, size = _entries(_isolated_home)
                assert size <= CAP_MB * 2**20, f"{size} bytes cached over a {CAP_MB} MiB cap"
            assert 0 < count < FILES // 2
            # evicted documents are converted again, correctly
            first = next(iter(texts))
            read = payload(await client.call_tool("read_document", {"source": first, "max_chars": 100_000}))
            assert read["markdown"] == texts[first]
    # the file reuses freed pages (its write-ahead log, up to SQLite's 4 MB checkpoint, is not counted here)
    assert (_isolated_home / "cache" / "documents" / "documents.sqlite").stat().st_size < 4 * CAP_MB * 2**20


async def test_an_empty_file_reads_as_empty_with_a_warning(tmp_path: Path):
    for name in ("empty.txt", "empty.pdf", "empty.docx"):
        (tmp_path / name).write_bytes(b"")
    async with connect("documents", args=["--root", str(tmp_path)]) as client:
        with anyio.fail_after(60):
            for name in ("empty.txt", "empty.pdf", "empty.docx"):
                read = payload(await client.call_tool("read_document", {"source": name}))
                assert read["markdown"] == "" and any("empty (0 bytes)" in w for w in read["warnings"]), read
                info = payload(await client.call_tool("document_info", {"source": name}))
                assert info["size_bytes"] == 0 and any("empty (0 bytes)" in w for w in info["warnings"]), info

"""Attacks on memento-documents' root confinement over MCP: symlinks out of the root and a folder swapped mid-read."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import anyio
import pytest

from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

INSIDE = "inside the root, public {}"
SECRET = "SECRET outside the root {}"
ATTEMPTS = 200  # files, each read once by each tool, so every read is a cache miss


def _tree(tmp_path: Path, files: int = 1) -> tuple[Path, Path]:
    """root/sub/doc{i}.txt inside the root; outside/doc{i}.txt beside it, some with the same size and mtime."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    for i in range(files):
        (root / "sub" / f"doc{i}.txt").write_text(INSIDE.format(i))
        (outside / f"doc{i}.txt").write_text(SECRET.format(i))
        if i % 2:
            stamp = (root / "sub" / f"doc{i}.txt").stat().st_mtime_ns
            os.utime(outside / f"doc{i}.txt", ns=(stamp, stamp))
    return root, outside


async def test_symlinks_pointing_out_of_the_root_are_refused(tmp_path: Path):
    root, outside = _tree(tmp_path)
    os.symlink(outside, root / "linked")
    os.symlink(outside / "doc0.txt", root / "doc-link.txt")
    async with connect("documents", args=["--root", str(root)]) as client:
        with anyio.fail_after(60):
            for source in ("linked/doc0.txt", "doc-link.txt", str(root / "linked" / "doc0.txt")):
                assert "outside the allowed roots" in error_text(await client.call_tool("read_document", {"source": source}))


def _swap(root: Path, outside: Path, stop: threading.Event) -> None:
    """Swap root/sub for a symlink to `outside` and back, as fast as possible, until `stop`."""
    sub, kept = root / "sub", root / "sub.kept"
    while not stop.is_set():
        os.rename(sub, kept)
        os.symlink(outside, sub)
        time.sleep(0.0002)
        os.unlink(sub)
        os.rename(kept, sub)
        time.sleep(0.0002)


async def test_a_folder_swapped_for_a_symlink_mid_read_never_leaks_and_never_poisons_the_cache(tmp_path: Path):
    root, outside = _tree(tmp_path, ATTEMPTS)
    stop = threading.Event()
    swapper = threading.Thread(target=_swap, args=(root, outside, stop), daemon=True)
    seen: dict[str, int] = {"inside": 0, "refused": 0}
    async with connect("documents", args=["--root", str(root)]) as client:
        with anyio.fail_after(180):
            swapper.start()
            try:
                for i in range(ATTEMPTS):
                    for tool in ("read_document", "find_in_document"):
                        arguments = {"source": f"sub/doc{i}.txt"} | ({"query": "root"} if tool == "find_in_document" else {})
                        result = await client.call_tool(tool, arguments)
                        text = error_text(result) if result.is_error else str(payload(result))
                        assert "SECRET" not in text, f"{tool} read a file outside the root: {text}"
                        seen["refused" if result.is_error else "inside"] += 1
            finally:
                stop.set()
                swapper.join()
            # the legitimate path is served its own content afterwards, never a swapped file's cached conversion
            for i in range(ATTEMPTS):
                read = payload(await client.call_tool("read_document", {"source": f"sub/doc{i}.txt"}))
                assert read["markdown"] == INSIDE.format(i)
    assert seen["inside"] and seen["refused"], seen  # the race was really run both ways

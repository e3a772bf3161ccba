"""Crawl's extraction and conversion past their time limit leave nothing running (real crawl server over MCP).

A loopback site serves a huge HTML page (seconds of extraction) and docx bombs generated here (a
~0.7 MB zip whose 6 MB of paragraphs take seconds to convert). Before the fix, extraction ran in a
thread abandoned at its timeout and kept burning CPU and memory after the caller got its error
(with the old loader this test sees a runnable thread in 100% of samples). Now the worker doing it is
killed: its pid is gone, the server process is idle at once, and once the replacement is warm the
server's whole process tree is. "Idle" is sampled as thread states (running or runnable), which holds
on a loaded machine where CPU-time thresholds do not.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import anyio
import psutil
import pytest

from tests.fakes.site import site  # noqa: F401 (fixture)
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

TIMEOUT_S = 1.0
ARGS = ["--allow-host", "127.0.0.1", "--no-browser", "--cache-ttl-s", "0", "--convert-timeout-s", str(TIMEOUT_S)]
BUSY = 0.5  # share of samples with a runnable thread above which processes count as working (idle: ~0)

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bomb(paragraphs: int = 100_000) -> bytes:
    """A valid docx, within the archive limits (ratio ~10), that takes seconds and hundreds of MB to convert."""
    body = "".join(f"<w:p><w:r><w:t>cell {i} of the bomb {i * 7919 % 100_003}</w:t></w:r></w:p>" for i in range(paragraphs))
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document '
        f'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def huge_page(blocks: int = 60_000) -> bytes:
    """6 MB of HTML with a link per block: about 10 s of extraction."""
    body = "".join(f'<div><p>Paragraph {i} on tides and the moon, number {i * 31 % 977}.</p><a href="/l{i}">link {i}</a></div>'
                   for i in range(blocks))
    return f"<html><head><title>Huge</title></head><body>{body}</body></html>".encode()


def crawl_server() -> psutil.Process:
    """The crawl server this test started (a child of the test process)."""
    found = [child for child in psutil.Process(os.getpid()).children() if "memento-crawl" in " ".join(child.cmdline())]
    assert len(found) == 1, found
    return found[0]


def workers(server: psutil.Process) -> set[int]:
    found = set()
    for child in server.children(recursive=True):
        try:
            if "memento_core.workers" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.NoSuchProcess:  # a worker killed while listed
            pass
    return found


def tree(server: psutil.Process) -> list[psutil.Process]:
    return [server, *server.children(recursive=True)]


def runnable(processes: list[psutil.Process]) -> bool:
    """Whether any thread of `processes` is running or waiting for a CPU (a measure that holds on a loaded machine)."""
    for process in processes:
        try:
            for tid in os.listdir(f"/proc/{process.pid}/task"):
                state = Path(f"/proc/{process.pid}/task/{tid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
                if state in (b"R", b"D"):
                    return True
        except (OSError, IndexError):
            continue
    return False


async def busy(processes: list[psutil.Process], seconds: float = 1.0) -> float:
    """The share of samples over `seconds` in which `processes` had a runnable thread."""
    samples = []
    for _ in range(int(seconds / 0.05)):
        samples.append(runnable(processes))
        await anyio.sleep(0.05)
    return sum(samples) / len(samples)


async def assert_server_quiet(server: psutil.Process) -> None:
    """The server process itself does no work once the error is out (an abandoned thread would keep running)."""
    share = await busy([server])
    assert share < BUSY, f"the crawl server had a running thread in {share:.0%} of samples after the timeout error"


async def assert_idle(server: psutil.Process, within_s: float = 10.0) -> None:
    """The server's whole tree goes quiet once replacement workers have finished their imports."""
    deadline = time.monotonic() + within_s
    while (share := await busy(tree(server), 0.5)) >= BUSY / 2:
        assert time.monotonic() < deadline, f"the crawl server's processes were running in {share:.0%} of samples"


async def warm(client, site) -> None:  # noqa: F811 (fixture)
    """A small page through the pool: the worker it reaches is started and ready afterwards."""
    page = payload(await client.call_tool("fetch_page", {"url": site.url("/articles/tides.html"), "render": "http"}))
    assert "Moon" in page["markdown"]


async def test_html_extraction_past_its_timeout_is_killed_not_abandoned(site):  # noqa: F811 (fixture)
    url = site.add("/huge.html", huge_page())
    with anyio.fail_after(120):
        async with connect("crawl", args=ARGS) as client:
            server = crawl_server()
            await warm(client, site)
            busy = workers(server)
            started = time.monotonic()
            message = error_text(await client.call_tool("fetch_page", {"url": url, "render": "http"}))
            assert f"extracting the page took longer than {TIMEOUT_S:g} s and was stopped" in message
            assert "--convert-timeout-s" in message and time.monotonic() - started < 10 * TIMEOUT_S
            await assert_server_quiet(server)
            killed = busy - workers(server)
            assert killed and not any(psutil.pid_exists(pid) for pid in killed)
            await warm(client, site)  # the replacement serves, so it is warm: nothing may run now
            await assert_idle(server, within_s=3.0)  # an abandoned extraction would burn for seconds more


async def test_four_docx_bombs_are_stopped_and_leave_no_worker_burning(site):  # noqa: F811 (fixture)
    bomb = docx_bomb()
    urls = [site.add(f"/bomb{k}.docx", bomb, DOCX) for k in range(4)]
    messages: list[str] = []
    with anyio.fail_after(180):
        async with connect("crawl", args=ARGS) as client:
            server = crawl_server()
            await warm(client, site)
            seen: set[int] = set()

            async def attack(url: str) -> None:
                messages.append(error_text(await client.call_tool("fetch_page", {"url": url, "render": "http"})))

            async def watch() -> None:
                while True:
                    seen.update(workers(server))
                    await anyio.sleep(0.1)

            async with anyio.create_task_group() as watching:
                watching.start_soon(watch)
                async with anyio.create_task_group() as group:
                    for url in urls:
                        group.start_soon(attack, url)
                watching.cancel_scope.cancel()
            assert len(messages) == 4
            await assert_server_quiet(server)
            assert all(f"converting the document took longer than {TIMEOUT_S:g} s and was stopped" in m for m in messages)
            gone = seen - workers(server)
            assert len(gone) >= 2 and not any(psutil.pid_exists(pid) for pid in gone)
            await warm(client, site)
            await warm(client, site)
            assert len(workers(server)) <= 2
            await assert_idle(server)
            rss = sum(p.memory_info().rss for p in tree(server))
            assert rss < 1 << 30, f"the crawl server's processes hold {rss >> 20} MiB after the bombs"


async def test_a_busy_worker_exits_when_its_server_is_sigkilled(site):  # noqa: F811 (fixture)
    url = site.add("/bomb.docx", docx_bomb(), DOCX)
    args = [*ARGS[:-1], "60"]  # the conversion would run for seconds
    with anyio.fail_after(120):
        async with connect("crawl", args=args) as client:
            server = crawl_server()
            await warm(client, site)
            async with anyio.create_task_group() as group:
                group.cancel_scope.deadline = anyio.current_time() + 3  # the call itself never returns: its server dies
                group.start_soon(client.call_tool, "fetch_page", {"url": url, "render": "http"})
                while not runnable([psutil.Process(pid) for pid in workers(server)]):
                    await anyio.sleep(0.05)
                busy_workers = workers(server)
                server.kill()
                server.wait(10)
                group.cancel_scope.cancel()
            deadline = time.monotonic() + 5
            while any(psutil.pid_exists(pid) for pid in busy_workers) and time.monotonic() < deadline:
                await anyio.sleep(0.1)
            assert not any(psutil.pid_exists(pid) for pid in busy_workers), "a worker outlived its killed server"

"""Decompression bombs served over loopback: the fetcher stops at the DECODED size limit with bounded memory.

Each bomb (hundreds of MiB of zeros in a few KB, stacked encodings included) is generated here and
served by a small HTTP server on 127.0.0.1. The fetch runs in a subprocess that reports its peak
RSS growth (`ru_maxrss`), so the measure is the real process and not an allocator's bookkeeping.
Then the crawl and documents servers are attacked over MCP and must answer and stay up.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anyio
import pytest

from memento_core.decoding import DECODERS
from memento_core.errors import FetchError
from memento_core.fetch import Fetcher, FetchPolicy
from tests.harness import connect, error_text, payload

MIB = 1 << 20
DECODED = 512 * MIB  # what each bomb inflates to
LIMIT = 2 * MIB  # the fetch limit in the attacked process
MAX_GROWTH = 48 * MIB  # peak RSS growth allowed: the limit, a copy of it, decoder pieces and slack


def zeros(n: int) -> Iterator[bytes]:
    block = bytes(MIB)
    for _ in range(n // MIB):
        yield block


def gzip_stream(chunks, *, wbits: int = 31) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(c.compress(chunk) for chunk in chunks) + c.flush()


def brotli_stream(chunks) -> bytes:
    import brotli

    c = brotli.Compressor(quality=5)
    return b"".join(c.process(chunk) for chunk in chunks) + c.finish()


def zstd_stream(chunks) -> bytes:
    from memento_core.decoding import zstd

    c = zstd.ZstdCompressor()
    return b"".join(c.compress(chunk) for chunk in chunks) + c.flush()


ENCODERS: dict[str, Callable[..., bytes]] = {
    "gzip": gzip_stream, "deflate": lambda chunks: gzip_stream(chunks, wbits=15), "br": brotli_stream,
    "zstd": zstd_stream,
}


def encode(content_encoding: str, chunks) -> bytes:
    """`chunks` encoded with each coding of the header in turn (the first listed is applied first)."""
    codings = [c.strip() for c in content_encoding.split(",")]
    body = ENCODERS[codings[0]](chunks)
    for coding in codings[1:]:
        body = ENCODERS[coding]([body])
    return body


def needs(content_encoding: str) -> None:
    missing = [c.strip() for c in content_encoding.split(",") if c.strip() not in DECODERS]
    if missing:
        pytest.skip(f"no bounded decoder installed for {', '.join(missing)} (brotli>=1.2, compression.zstd)")


class BodyServer:
    """Serves registered (Content-Encoding, body) pairs on 127.0.0.1; records Accept-Encoding of each request."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.accept_encoding: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                owner.accept_encoding.append(self.headers.get("Accept-Encoding", ""))
                coding, body = owner.routes.get(self.path, ("", b"not found"))
                self.send_response(200 if self.path in owner.routes else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if coding:
                    self.send_header("Content-Encoding", coding)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, content_encoding: str, body: bytes) -> str:
        self.routes[path] = (content_encoding, body)
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def bodies() -> Iterator[BodyServer]:
    server = BodyServer()
    yield server
    server.close()


ATTACK = """
import anyio, json, resource, sys
from memento_core.errors import FetchError
from memento_core.fetch import Fetcher, FetchPolicy

async def main(warm_url, url, limit):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"], max_bytes=limit, timeout_s=60)) as fetcher:
        await fetcher.fetch(warm_url)  # every module and connection path loaded before measuring
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            result = await fetcher.fetch(url)
            outcome = {"kind": None, "size": len(result.content)}
        except FetchError as exc:
            outcome = {"kind": exc.kind, "message": str(exc)}
        outcome["growth"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        print(json.dumps(outcome))

anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""


def attack(bodies: BodyServer, url: str) -> dict:
    warm = bodies.add("/warm", "gzip", gzip_stream([b"<p>warm</p>" * 100]))
    done = subprocess.run(
        [sys.executable, "-c", ATTACK, warm, url, str(LIMIT)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("content_encoding", ["gzip", "deflate", "br", "zstd", "gzip, gzip", "deflate, br"])
def test_fetch_bomb_stops_at_the_decoded_limit_with_bounded_memory(bodies, content_encoding):
    needs(content_encoding)
    bomb = encode(content_encoding, zeros(DECODED))
    assert len(bomb) < 600_000  # a small body on the wire
    url = bodies.add(f"/bomb/{content_encoding.replace(', ', '-')}", content_encoding, bomb)
    outcome = attack(bodies, url)
    assert outcome["kind"] == "too_large", outcome
    assert outcome["growth"] < MAX_GROWTH, f"peak RSS grew {outcome['growth'] / MIB:.0f} MiB decoding {content_encoding}"
    assert f"{LIMIT:,}-byte limit" in outcome["message"] and "after decompression" in outcome["message"]


@pytest.mark.parametrize("content_encoding", ["gzip", "deflate", "br", "zstd", "gzip, gzip", "br, gzip", "zstd, deflate"])
@pytest.mark.anyio
async def test_fetch_decodes_encoded_bodies_within_the_limit_exactly(bodies, content_encoding):
    needs(content_encoding)
    text = "".join(f"<p>Paragraph {i}: the tide turns twice a day.</p>\n" for i in range(40_000)).encode()
    url = bodies.add(f"/ok/{content_encoding.replace(', ', '-')}", content_encoding, encode(content_encoding, [text]))
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"], max_bytes=len(text))) as fetcher:
        result = await fetcher.fetch(url)
    assert result.content == text
    assert set(bodies.accept_encoding[-1].replace(" ", "").split(",")) == {c for c in DECODERS if c != "x-gzip"}


@pytest.mark.anyio
async def test_fetch_refuses_an_encoding_it_cannot_decode_and_a_corrupt_body(bodies):
    async with Fetcher(FetchPolicy(allow_hosts=["127.0.0.1"])) as fetcher:
        with pytest.raises(FetchError) as unknown:
            await fetcher.fetch(bodies.add("/compress", "compress", b"\x1f\x9d\x90abc"))
        with pytest.raises(FetchError) as corrupt:
            await fetcher.fetch(bodies.add("/corrupt", "gzip", b"\x1f\x8b\x08\x00not a gzip stream at all"))
    assert unknown.value.kind == "encoding" and "content-encoding compress" in str(unknown.value)
    assert corrupt.value.kind == "encoding" and "corrupt" in str(corrupt.value)


@pytest.mark.anyio
async def test_fetch_bomb_over_mcp_leaves_crawl_and_documents_servers_answering(bodies):
    needs("br")
    bomb = bodies.add("/mcp-bomb", "br", encode("br", zeros(2048 * MIB)))  # 2 GiB decoded
    page = bodies.add("/fine", "gzip", gzip_stream([b"<html><body><p>Still here after the bomb.</p></body></html>"]))
    with anyio.fail_after(240):
        async with connect("crawl", args=["--allow-host", "127.0.0.1", "--max-fetch-mb", "2", "--no-browser"]) as crawl:
            message = error_text(await crawl.call_tool("fetch_page", {"url": bomb, "render": "http"}))
            assert "2,097,152-byte limit" in message and "--max-fetch-mb" in message
            after = payload(await crawl.call_tool("fetch_page", {"url": page, "render": "http"}))
            assert "Still here after the bomb." in after["markdown"]
        async with connect("documents", args=["--allow-host", "127.0.0.1", "--max-file-mb", "2"]) as documents:
            message = error_text(await documents.call_tool("read_document", {"source": bomb}))
            assert "2,097,152-byte limit" in message and "--max-file-mb" in message
            assert "Still here" in payload(await documents.call_tool("read_document", {"source": page}))["markdown"]

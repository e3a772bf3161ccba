"""Content-Encoding decoding that never inflates more than a bounded piece at a time (no bombs).

    body = BodyDecoder("gzip, br", max_bytes=10_000_000, too_large=lambda: FetchError(...))
    for raw in chunks: body.feed(raw)
    content = body.finish()

Every decoder returns at most `PIECE` bytes per call, and stacked encodings pass pieces along
one at a time, so memory stays within `max_bytes` plus a few pieces whatever the ratio.
gzip and deflate use zlib's `max_length`; br needs `brotli` >= 1.2 (`output_buffer_limit`);
zstd needs `compression.zstd` (Python 3.14) or its backport `backports.zstd` (`max_length`).
An encoding without a bounded decoder here is neither advertised nor accepted.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

from memento_core.errors import FetchError

PIECE = 64 * 1024

try:
    import brotli

    _BROTLI = hasattr(brotli.Decompressor(), "can_accept_more_data")  # older versions cannot bound output
except ImportError:  # pragma: no cover (an optional dependency)
    brotli, _BROTLI = None, False

try:
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:
    try:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    except ImportError:
        zstd = None


class _Zlib:
    """gzip, or deflate (zlib-wrapped, or raw as some servers send it)."""

    def __init__(self, encoding: str):
        self.raw_fallback = encoding == "deflate"
        self.obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self.obj.eof:
            try:
                out = self.obj.decompress(data, PIECE)
            except zlib.error:
                if not self.raw_fallback:
                    raise
                self.obj, self.raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self.raw_fallback = False
            data = self.obj.unconsumed_tail
            if out:
                yield out
            while len(out) == PIECE and not data and not self.obj.eof:  # output still pending inside zlib
                out = self.obj.decompress(b"", PIECE)
                if out:
                    yield out

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Brotli:
    def __init__(self) -> None:
        self.obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.obj.is_finished():
            return
        out = self.obj.process(data, output_buffer_limit=PIECE)
        if out:
            yield out
        while not self.obj.can_accept_more_data():
            out = self.obj.process(b"", output_buffer_limit=PIECE)
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        """Input brotli buffered but has not decoded yet."""
        while not self.obj.is_finished():
            out = self.obj.process(b"", output_buffer_limit=PIECE)
            if not out:
                return
            yield out


class _Zstd:
    def __init__(self) -> None:
        self.obj = zstd.ZstdDecompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        while not self.obj.eof:
            out = self.obj.decompress(data, PIECE)
            data = b""
            if out:
                yield out
            if self.obj.needs_input:
                return

    def flush(self) -> Iterator[bytes]:
        return iter(())


DECODERS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: _Zlib("gzip"), "x-gzip": lambda: _Zlib("gzip"), "deflate": lambda: _Zlib("deflate"),
    **({"br": _Brotli} if _BROTLI else {}),
    **({"zstd": _Zstd} if zstd is not None else {}),
}
ACCEPT_ENCODING = ", ".join(name for name in DECODERS if name != "x-gzip")
DECODE_ERRORS: tuple[type[Exception], ...] = (
    zlib.error, *((brotli.error,) if brotli is not None else ()), *((zstd.ZstdError,) if zstd is not None else ())
)


def encodings(header: str) -> list[str]:
    """The codings of a Content-Encoding header, in the order they were applied (identity left out)."""
    return [c for c in (part.strip().lower() for part in header.split(",")) if c and c != "identity"]


class BodyDecoder:
    """Decodes a body as its raw chunks arrive, raising `too_large()` once decoded bytes pass `max_bytes`."""

    def __init__(self, content_encoding: str, *, max_bytes: int, too_large: Callable[[], FetchError], url: str):
        codings = encodings(content_encoding)
        unknown = [c for c in codings if c not in DECODERS]
        if unknown:
            raise FetchError(
                f"{url} is sent with content-encoding {', '.join(unknown)}, which this fetcher cannot decode "
                f"safely (it decodes {ACCEPT_ENCODING})",
                kind="encoding",
            )
        self.stages = [DECODERS[c]() for c in reversed(codings)]  # the last coding applied is undone first
        self.max_bytes, self.too_large, self.url = max_bytes, too_large, url
        self.body = bytearray()

    def feed(self, raw: bytes) -> None:
        self._keep(self._through(raw, 0))

    def finish(self) -> bytes:
        """The decoded body, once the decoders' buffered input is decoded too."""
        for stage, decoder in enumerate(self.stages):
            self._keep(piece for out in decoder.flush() for piece in self._through(out, stage + 1))
        return bytes(self.body)

    def _keep(self, pieces: Iterator[bytes]) -> None:
        try:
            for piece in pieces:
                if len(self.body) + len(piece) > self.max_bytes:
                    raise self.too_large()
                self.body += piece
        except DECODE_ERRORS as exc:
            raise FetchError(f"the compressed body of {self.url} is corrupt: {exc}", kind="encoding") from exc

    def _through(self, data: bytes, stage: int) -> Iterator[bytes]:
        if stage == len(self.stages):
            yield data
            return
        for piece in self.stages[stage].feed(data):
            yield from self._through(piece, stage + 1)

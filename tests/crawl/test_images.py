"""memento-crawl's fetch_image over real MCP stdio against the local test site: images come back as MCP image
content, large ones downscaled; non-images, oversized downloads, decompression bombs and private addresses
are refused with errors that say why, and the server keeps serving."""

from __future__ import annotations

import base64
import io
import os
import struct
import zlib

import anyio
import pytest
from PIL import Image

from tests.fakes.site import site  # noqa: F401 (fixture)
from tests.harness import connect, error_text, payload

pytestmark = pytest.mark.anyio

SERVER_ARGS = ["--allow-host", "127.0.0.1", "--no-browser", "--max-image-mb", "0.25", "--max-image-side", "512",
               "--max-image-megapixels", "3"]


def encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def gradient(width: int, height: int) -> Image.Image:
    """A smooth picture (compresses well, unlike noise)."""
    return Image.linear_gradient("L").resize((width, height)).convert("RGB")


def png_bomb(side: int) -> bytes:
    """A side x side single-colour 1-bit PNG: about 0.1 MB on the wire, side² pixels once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


async def fetch_image(client, url: str, **arguments):
    with anyio.fail_after(60):
        return await client.call_tool("fetch_image", {"url": url, **arguments})


def shown(result) -> tuple[dict, Image.Image, bytes]:
    """The structured result, the image content decoded, and its bytes (checking they agree)."""
    info = payload(result)
    images = [block for block in result.content if block.type == "image"]
    assert len(images) == 1 and images[0].mime_type == info["mime_type"]
    data = base64.b64decode(images[0].data)
    image = Image.open(io.BytesIO(data))
    assert image.size == (info["width"], info["height"]) and len(data) == info["size_bytes"]
    return info, image, data


async def test_fetch_image_returns_downscales_and_refuses(site):
    small = encode(gradient(64, 48), "PNG")
    wide = encode(gradient(2000, 1000), "JPEG")
    tall = encode(gradient(300, 1200).convert("RGBA"), "PNG")
    urls = {
        "small": site.add("/img/small.png", small, "image/png"),
        "gif": site.add("/img/dot.gif", encode(gradient(20, 10).convert("P"), "GIF"), "image/gif"),
        "webp": site.add("/img/photo.webp", encode(gradient(30, 40), "WEBP"), "image/webp"),
        "wide": site.add("/img/wide.jpg", wide, "image/jpeg"),
        "tall": site.add("/img/tall.png", tall, "application/octet-stream"),
        "html": site.add("/img/fake.png", "<html><body>not an image</body></html>", "image/png"),
        "broken": site.add("/img/broken.png", tall[: len(tall) // 2], "image/png"),
        "noise": site.add("/img/noise.png", encode(Image.frombytes("RGB", (320, 320), os.urandom(320 * 320 * 3)), "PNG"), "image/png"),
        "square": site.add("/img/square.jpg", encode(gradient(2000, 2000), "JPEG"), "image/jpeg"),
        "private": site.add("/private/chart.png", small, "image/png"),
        "bomb": site.add("/img/bomb.png", await anyio.to_thread.run_sync(png_bomb, 30_000), "image/png"),
    }
    async with connect("crawl", "stdio", args=SERVER_ARGS) as client:
        info, image, data = shown(await fetch_image(client, urls["small"]))
        assert data == small and info["downscaled"] is False and info["mime_type"] == "image/png"
        assert info["final_url"] == urls["small"] and info["served_as"] == "image/png"

        info, image, _ = shown(await fetch_image(client, urls["gif"]))
        assert info["mime_type"] == "image/gif" and image.size == (20, 10)
        info, image, _ = shown(await fetch_image(client, urls["webp"]))
        assert info["mime_type"] == "image/webp" and image.size == (30, 40)

        info, image, _ = shown(await fetch_image(client, urls["wide"]))
        assert (info["original_width"], info["original_height"]) == (2000, 1000)
        assert image.size == (512, 256) and info["downscaled"] is True and image.format == "JPEG"
        info, image, _ = shown(await fetch_image(client, urls["wide"], max_side=100))
        assert image.size == (100, 50)
        info, image, _ = shown(await fetch_image(client, urls["tall"]))  # transparency kept: PNG
        assert image.size == (128, 512) and info["mime_type"] == "image/png" and image.mode == "RGBA"
        assert "max_side" in error_text(await fetch_image(client, urls["wide"], max_side=4096))

        message = error_text(await fetch_image(client, urls["html"]))
        assert "not a PNG, JPEG, GIF or WebP image" in message and "served as image/png" in message
        assert "cannot be decoded" in error_text(await fetch_image(client, urls["broken"]))
        message = error_text(await fetch_image(client, urls["noise"]))
        assert "262,144-byte limit" in message and "--max-image-mb" in message
        message = error_text(await fetch_image(client, urls["square"]))  # over the limit, under Pillow's own error
        assert "4000000 pixels" in message and "3000000" in message and "--max-image-megapixels" in message
        message = error_text(await fetch_image(client, urls["bomb"]))
        assert "900000000 pixels" in message and "decompression bomb" in message and "--max-image-megapixels" in message
        assert "refused" in error_text(await fetch_image(client, site.redirect_to("http://169.254.169.254/latest")))
        assert "robots.txt" in error_text(await fetch_image(client, urls["private"]))
        assert "--allow-robots-override" in error_text(await fetch_image(client, urls["private"], respect_robots=False))
        assert "/private/chart.png" not in site.requests

        assert shown(await fetch_image(client, urls["small"]))[2] == small  # the server and its workers live on


async def test_fetch_image_refuses_private_addresses_without_an_allowlist(site):
    url = site.add("/img/private.png", encode(gradient(8, 8), "PNG"), "image/png")
    async with connect("crawl", "stdio", mode="legacy", args=["--no-browser"]) as client:
        message = error_text(await fetch_image(client, url))
        assert "refused to connect to 127.0.0.1" in message and "--allow-host" in message
    assert "/img/private.png" not in site.requests

"""Images from the web for fetch_image: fetched through the SSRF-safe fetcher, typed by their magic bytes,
decoded and downscaled in crawl's killable workers (image decoders face untrusted input).

    images = ImageLoader(image_fetcher, workers, max_pixels=50_000_000)
    result, data = await images.load(url, max_side=1568)
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from memento_core.fetch import Fetcher
from memento_core.workers import WorkerPool
from memento_servers.crawl.errors import CrawlError
from memento_servers.crawl.models import ImageResult
from memento_servers.documents.convert import DocumentError

MAGIC = (  # (prefix, offset of a second mark, second mark, media type)
    (b"\x89PNG\r\n\x1a\n", 0, b"", "image/png"),
    (b"\xff\xd8\xff", 0, b"", "image/jpeg"),
    (b"GIF87a", 0, b"", "image/gif"),
    (b"GIF89a", 0, b"", "image/gif"),
    (b"RIFF", 8, b"WEBP", "image/webp"),
)
PILLOW_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def sniff(data: bytes) -> str | None:
    """The media type `data` starts like (png, jpeg, gif, webp), whatever its server declared; else None."""
    for prefix, offset, mark, media_type in MAGIC:
        if data.startswith(prefix) and data[offset : offset + len(mark)] == mark:
            return media_type
    return None


class ImageLoader:
    """Fetches images for fetch_image; decoding runs in `workers` (whose operations call `prepare`)."""

    def __init__(self, fetcher: Fetcher, workers: WorkerPool, *, max_pixels: int):
        self.fetcher = fetcher
        self.workers = workers
        self.max_pixels = max_pixels

    async def load(self, url: str, max_side: int, respect_robots: bool | None = None) -> tuple[ImageResult, bytes]:
        """The image at `url`, at most `max_side` pixels wide and high, and its bytes."""
        response = await self.fetcher.fetch(url, respect_robots=respect_robots)
        served_as = response.content_type or "no content type"
        if sniff(response.content) is None:
            raise CrawlError(
                f"{response.final_url} is not a PNG, JPEG, GIF or WebP image (served as {served_as}; its bytes do "
                "not start like one); read pages with fetch_page"
            )
        args = {"max_side": max_side, "max_pixels": self.max_pixels}
        try:
            info, image = await self.workers.call("prepare_image", args, response.content, what="decoding the image")
        except DocumentError as exc:  # the pool's name for errors raised in its workers
            raise CrawlError(str(exc)) from exc
        return ImageResult(url=url, final_url=response.final_url, served_as=served_as, size_bytes=len(image), **info), image


def prepare(data: bytes, max_side: int, max_pixels: int) -> tuple[dict[str, Any], bytes]:
    """Decode `data`, refusing more than `max_pixels` pixels before decoding them (Pillow's bomb check), and,
    if a side passes `max_side`, downscale it and re-encode it (PNG when it has transparency or was PNG/GIF,
    else JPEG). Runs in a worker process."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's decompression-bomb check, made an error from the limit on:
    warnings.simplefilter("error", Image.DecompressionBombWarning)  # it only warns up to twice the limit
    try:
        image = Image.open(io.BytesIO(data), formats=list(PILLOW_FORMATS))
        width, height = image.size
        image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise CrawlError(f"refused: {exc} The server's operator can raise --max-image-megapixels") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CrawlError(f"the image cannot be decoded: {exc}") from exc
    media_type = PILLOW_FORMATS[image.format or ""]
    info = {"original_width": width, "original_height": height}
    if max(width, height) <= max_side:
        return {**info, "width": width, "height": height, "mime_type": media_type, "downscaled": False}, data
    lossless = media_type in ("image/png", "image/gif") or "A" in image.mode or "transparency" in image.info
    image = image.convert("RGBA" if lossless else "RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG" if lossless else "JPEG", **({"optimize": True} if lossless else {"quality": 85}))
    mime_type = "image/png" if lossless else "image/jpeg"
    return {**info, "width": image.width, "height": image.height, "mime_type": mime_type, "downscaled": True}, out.getvalue()


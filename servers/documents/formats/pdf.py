"""PDF to markdown from the text layer, built for speed: one `get_text("dict")` pass per page.

Headings come from font size relative to the page's body size, lists from bullet glyphs,
code from monospaced blocks, bold from font flags, links from the page's URI links, tables
from column-aligned rows (see `pdf_tables`). Only the requested pages are read.
"""

from __future__ import annotations

import re
from collections import Counter

import pymupdf

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument, EncryptedDocument
from memento_servers.documents.formats.pdf_tables import Line, split_tables
from memento_servers.documents.model import Document, PageBuilder

FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
BULLET = re.compile(r"^\s*[•●○◦▪▫■□‣⁃∙·\uf0b7\uf0a7]\s*")
NUMBERED = re.compile(r"^\s*(\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,4}\))\s")
MARKER = re.compile(r"^(?:(\d{1,3}|[a-z])[.)]?|[•●○◦▪▫■□‣⁃∙·\uf0b7\uf0a7–-])$")
HEADING_RATIOS = ((1.8, "#"), (1.4, "##"), (1.15, "###"))
JUNK_TITLES = {"", "untitled", "(anonymous)", "anonymous", "microsoft word", "document", "none"}
MONO_HINTS = ("mono", "courier", "consolas", "menlo")


def open_pdf(data: bytes) -> pymupdf.Document:
    """Open PDF bytes or raise a clear `DocumentError`."""
    try:
        document = pymupdf.open(stream=data, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        raise CorruptDocument(f"the PDF is damaged or truncated and cannot be opened ({exc})") from exc
    if document.needs_pass:
        raise EncryptedDocument("the PDF is password-protected; decrypt it first (no password support)")
    if document.page_count == 0:
        raise CorruptDocument("the PDF has no readable pages (damaged or truncated)")
    return document


def _is_bold(span: dict) -> bool:
    return bool(span["flags"] & 16) or "bold" in span["font"].lower()


def _is_mono(span: dict) -> bool:
    return bool(span["flags"] & 8) or any(hint in span["font"].lower() for hint in MONO_HINTS)


def _marker(spans: list[dict]) -> str | None:
    """A list marker set apart in its own span ("1", "a)", "•" followed by a gap), as markdown."""
    if len(spans) < 2 or spans[1]["bbox"][0] - spans[0]["bbox"][2] < spans[0]["size"] * 0.3:
        return None
    found = MARKER.match(spans[0]["text"].strip())
    if found is None:
        return None
    return f"{found.group(1)}." if found.group(1) else "-"


def _word_boundary(text: str, estimate: float) -> int:
    """The word boundary (text edge or whitespace) nearest to a character position estimated from geometry."""
    boundaries = [0, len(text)] + [i for i, c in enumerate(text) if c.isspace()] + [i + 1 for i, c in enumerate(text) if c.isspace()]
    return min(boundaries, key=lambda b: abs(b - estimate))


def _linked_parts(span: dict, links: list[tuple[pymupdf.Rect, str]]) -> list[tuple[str, str | None]]:
    """The span's text cut where a URI link starts and ends (by position, snapped to word boundaries)."""
    text = span["text"]
    x0, y0, x1, y1 = span["bbox"]
    middle_y = (y0 + y1) / 2
    width = max(x1 - x0, 1e-6)
    for rect, uri in links:
        if not (rect.y0 <= middle_y <= rect.y1) or rect.x1 <= x0 or rect.x0 >= x1:
            continue
        start = _word_boundary(text, (rect.x0 - x0) / width * len(text))
        end = _word_boundary(text, (rect.x1 - x0) / width * len(text))
        if end <= start:
            continue
        parts = [(text[:start], None), (text[start:end], uri), (text[end:], None)]
        return [(piece, link) for piece, link in parts if piece]
    return [(text, None)]


def _render(text: str, bold: bool, uri: str | None) -> str:
    core = text.strip()
    if not core:
        return text
    if bold:
        core = f"**{core}**"
    if uri and text.strip() != uri:
        core = f"[{core}]({uri})"
    return text[: len(text) - len(text.lstrip())] + core + text[len(text.rstrip()) :]


def _line(raw: dict, links: list[tuple[pymupdf.Rect, str]]) -> Line | None:
    spans = [s for s in raw["spans"] if s["text"].strip()]
    if not spans:
        return None
    item = _marker(spans)
    if item is not None:
        spans = spans[1:]
    all_bold = all(_is_bold(s) for s in spans)
    segments: list[list] = []  # [text, bold, uri]: runs of spans styled alike
    previous_end = None
    for span in spans:
        text = span["text"]
        if previous_end is not None and span["bbox"][0] - previous_end > span["size"] * 0.2 and not text.startswith(" "):
            text = " " + text
        previous_end = span["bbox"][2]
        bold = _is_bold(span) and not all_bold
        for piece, uri in _linked_parts({**span, "text": text}, links) if links else [(text, None)]:
            if segments and segments[-1][1:] == [bold, uri]:
                segments[-1][0] += piece
            else:
                segments.append([piece, bold, uri])
    text = "".join(_render(*segment) for segment in segments).strip()
    size = max(s["size"] for s in spans)
    return Line(text=text, bbox=tuple(raw["bbox"]), size=size, bold=all_bold, mono=all(_is_mono(s) for s in spans),
                spans=[(s["bbox"][0], s["bbox"][2], s["text"].strip()) for s in spans], item=item)


def _body_size(blocks: list[list[Line]]) -> float:
    counts: Counter[float] = Counter()
    for block in blocks:
        for line in block:
            counts[round(line.size, 1)] += len(line.text)
    return counts.most_common(1)[0][0] if counts else 0.0


def _heading(block: list[Line], body: float) -> str | None:
    text = " ".join(line.text for line in block)
    if body <= 0 or len(block) > 3 or len(text) > 200 or not any(c.isalpha() for c in text):
        return None
    ratio = min(line.size for line in block) / body
    for threshold, marks in HEADING_RATIOS:
        if ratio >= threshold:
            return f"{marks} {text.replace('**', '')}"
    return None


def _join(lines: list[str]) -> str:
    out = ""
    for text in lines:
        if not out:
            out = text
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha():
            out += text
        else:
            out += " " + text
    return out


def _paragraphs(block: list[Line]) -> str:
    if all(line.mono for line in block):
        return "```\n" + "\n".join(line.text for line in block) + "\n```"
    if all(line.bold for line in block) and sum(len(line.text) for line in block) <= 150:
        return "**" + _join([line.text for line in block]) + "**"
    items: list[list[str]] = [[]]
    for line in block:
        bullet = BULLET.match(line.text)
        if line.item:
            items.append([f"{line.item} {line.text}"])
        elif bullet:
            items.append(["- " + line.text[bullet.end() :]])
        elif NUMBERED.match(line.text) and items[-1]:
            items.append([line.text])
        else:
            items[-1].append(line.text)
    return "\n".join(_join(item) for item in items if item)


def _continues(previous: list[Line], block: list[Line]) -> bool:
    """A block that is the rest of the previous one's sentence (one line per block PDFs)."""
    last, first = previous[-1], block[0]
    return (
        first.text[:1].islower()
        and last.text[-1:] not in ".!?:;"
        and abs(last.size - first.size) < 0.5
        and 0 <= first.bbox[1] - last.bbox[3] < first.size
        and not (last.mono or first.mono)
    )


def _blocks(raw: dict, links: list[tuple[pymupdf.Rect, str]]) -> list[list[Line]]:
    blocks: list[list[Line]] = []
    for block in raw["blocks"]:
        if block.get("type") != 0:
            continue
        lines = [line for line in (_line(raw_line, links) for raw_line in block["lines"]) if line is not None]
        if not lines:
            continue
        if blocks and (_continues(blocks[-1], lines) or (all(x.mono for x in blocks[-1] + lines))):
            blocks[-1].extend(lines)
        else:
            blocks.append(lines)
    return blocks


def page_markdown(page: pymupdf.Page) -> str:
    """The markdown of one page's text layer."""
    links = [(pymupdf.Rect(link["from"]), link["uri"]) for link in page.get_links() if link.get("uri")]
    blocks = _blocks(page.get_text("dict", flags=FLAGS), links)
    body = _body_size(blocks)
    parts = []
    for item in split_tables(blocks):
        if isinstance(item, str):
            parts.append(item)
        else:
            parts.append(_heading(item, body) or _paragraphs(item))
    return "\n\n".join(part for part in parts if part.strip())


def metadata(document: pymupdf.Document) -> dict:
    meta = {k: v for k, v in (document.metadata or {}).items() if v and k != "encryption"}
    if meta.get("title", "").strip().lower() in JUNK_TITLES:
        meta.pop("title", None)
    return meta


def outline(document: pymupdf.Document, limit: int = 200) -> list[dict]:
    """PDF bookmarks as {level, title, page}."""
    return [{"level": lvl, "title": title, "page": page} for lvl, title, page, *_ in document.get_toc(simple=True)[:limit]]


def convert(data: bytes, context: Context) -> Document:
    document = open_pdf(data)
    try:
        return _convert(document, context)
    finally:
        document.close()


def _convert(document: pymupdf.Document, context: Context) -> Document:
    limits = context.limits
    count = document.page_count
    wanted = [n for n in range(1, count + 1) if context.wants(n)]
    warnings = []
    if len(wanted) > limits.max_pages:
        warnings.append(
            f"only the first {limits.max_pages} of {len(wanted)} requested pages were converted (page limit); "
            "ask for later pages with the pages parameter"
        )
        wanted = wanted[: limits.max_pages]
    builder = PageBuilder()
    scanned = []
    for number in wanted:
        try:
            page = document.load_page(number - 1)
            text = page_markdown(page)
        except (RuntimeError, ValueError) as exc:
            warnings.append(f"page {number} could not be read ({exc})")
            text = ""
        else:
            if not text and page.get_images():
                scanned.append(number)
        builder.add(number, text)
    if scanned:
        shown = ", ".join(map(str, scanned[:20])) + (" ..." if len(scanned) > 20 else "")
        warnings.append(f"pages with no text layer (scanned images; no OCR engine is installed): {shown}")
    if document.is_repaired:
        warnings.append("the PDF was damaged and has been repaired; some content may be missing")
    meta = metadata(document)
    title = meta.get("title") or None
    return Document(markdown=builder.markdown, format="pdf", title=title, metadata=meta, pages=builder.pages,
                    page_count=count, warnings=warnings)

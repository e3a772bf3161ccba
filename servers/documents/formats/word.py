"""Word (.docx) to markdown: headings from styles, lists, bold/italic, links, tables and images in body order."""

from __future__ import annotations

import base64
import io

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.hyperlink import Hyperlink
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.formats.html import shorten_data_uri
from memento_servers.documents.formats.tables import markdown_table
from memento_servers.documents.model import Document

BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
DOC_PR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
RUN, LINK = W + "r", W + "hyperlink"
MATH, MATH_PARAGRAPH, MATH_TEXT = M + "oMath", M + "oMathPara", M + "t"


def _image(run: Run, part, keep_data_uris: bool) -> str:
    images = []
    for blip in run._r.iter(BLIP):
        related = part.related_parts.get(blip.get(EMBED))
        if related is None:
            continue
        described = next(run._r.iter(DOC_PR), None)
        alt = (described.get("descr") or described.get("title") or "") if described is not None else ""
        uri = f"data:{related.content_type};base64,{base64.b64encode(related.blob).decode()}"
        images.append(f"![{' '.join(alt.split())}]({uri if keep_data_uris else shorten_data_uri(uri)})")
    return "".join(images)


def _run_text(run: Run, part, keep_data_uris: bool) -> str:
    text = run.text
    image = _image(run, part, keep_data_uris) if run._r.find(".//" + BLIP) is not None else ""
    core = text.strip()
    if core and (run.bold or run.italic):
        mark = "**" if run.bold else "*"
        text = text[: len(text) - len(text.lstrip())] + mark + core + mark + text[len(text.rstrip()) :]
    return text + image


def _math(element) -> str:
    """An Office Math (OMML) object as its linear text between dollar signs."""
    text = "".join(node.text or "" for node in element.iter(MATH_TEXT))
    return f"${text}$" if text.strip() else ""


def _inline(paragraph: Paragraph, keep_data_uris: bool) -> str:
    parts = []
    for child in paragraph._p:
        if child.tag == RUN:
            parts.append(_run_text(Run(child, paragraph), paragraph.part, keep_data_uris))
        elif child.tag == LINK:
            link = Hyperlink(child, paragraph)
            text = link.text.strip()
            parts.append(f"[{text}]({link.url})" if link.url and text else link.text)
        elif child.tag in (MATH, MATH_PARAGRAPH):
            parts.append(_math(child))
    return "".join(parts).replace("****", "").strip()


def _paragraph(paragraph: Paragraph, keep_data_uris: bool) -> str:
    text = _inline(paragraph, keep_data_uris)
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return "# " + text.replace("**", "")
    if style.startswith("Heading"):
        level = int(style.split()[-1]) if style.split()[-1].isdigit() else 1
        return "#" * min(level, 6) + " " + text.replace("**", "")
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    if "List" in style or numbered:
        level = 0
        if numbered and paragraph._p.pPr.numPr.ilvl is not None:
            level = int(paragraph._p.pPr.numPr.ilvl.val or 0)
        marker = "1." if "Number" in style else "-"
        return "  " * level + f"{marker} {text}"
    return text


def _table(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # merged cells repeat
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        rows.append(cells)
    return markdown_table(rows)


def _body(document: DocxDocument, keep_data_uris: bool) -> list[str]:
    blocks = []
    for item in document.iter_inner_content():
        text = _table(item) if isinstance(item, Table) else _paragraph(item, keep_data_uris)
        if text:
            blocks.append(text)
    return blocks


def _join(blocks: list[str]) -> str:
    out: list[str] = []
    for block in blocks:
        if out and block.lstrip().startswith(("- ", "1. ")) and out[-1].lstrip().startswith(("- ", "1. ")):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(out)


def convert(data: bytes, context: Context) -> Document:
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise CorruptDocument(f"the Word file is damaged or not a .docx ({exc})") from exc
    core = document.core_properties
    metadata = {
        key: str(value)
        for key, value in {"title": core.title, "author": core.author, "created": core.created, "modified": core.modified}.items()
        if value
    }
    markdown = _join(_body(document, context.keep_data_uris))
    title = metadata.get("title") or next((b[2:] for b in markdown.split("\n\n") if b.startswith("# ")), None)
    return Document(markdown=markdown, format="docx", title=title, metadata=metadata)

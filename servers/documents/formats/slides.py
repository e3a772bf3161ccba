"""PowerPoint (.pptx) to markdown: one page per slide with its title, text, tables, charts, pictures and notes."""

from __future__ import annotations

import base64
import io
import re

import pptx
from pptx.enum.shapes import MSO_SHAPE_TYPE, PP_PLACEHOLDER
from pptx.exc import PackageNotFoundError

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.formats.tables import markdown_table
from memento_servers.documents.model import Document, PageBuilder

NON_WORD = re.compile(r"\W")
TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def _is_title(shape) -> bool:
    return shape.is_placeholder and shape.placeholder_format.type in TITLE_TYPES


def _picture(shape, keep_data_uris: bool) -> str:
    alt = shape._element._nvXxPr.cNvPr.get("descr") or shape.name
    alt = " ".join(alt.split())
    if keep_data_uris:
        image = shape.image
        return f"![{alt}](data:{image.content_type};base64,{base64.b64encode(image.blob).decode()})"
    return f"![{alt}]({NON_WORD.sub('', shape.name)}.{shape.image.ext})"


def _chart(chart) -> str:
    title = chart.chart_title.text_frame.text if chart.has_title and chart.chart_title.has_text_frame else ""
    lines = [f"### Chart{': ' + title if title else ''}"]
    try:
        plot = chart.plots[0]
        categories = [str(c) for c in plot.categories]
        rows = [["Category", *[s.name for s in plot.series]]]
        values = [list(s.values) for s in plot.series]
        rows += [[category, *[v[i] if i < len(v) else "" for v in values]] for i, category in enumerate(categories)]
        lines.append(markdown_table(rows))
    except (IndexError, KeyError, ValueError, AttributeError):
        lines.append("(chart data unavailable)")
    return "\n\n".join(lines)


def _shape(shape, keep_data_uris: bool) -> str:
    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return "\n\n".join(filter(None, (_shape(s, keep_data_uris) for s in shape.shapes)))
    if shape.shape_type == MSO_SHAPE_TYPE.PICTURE or (shape.is_placeholder and hasattr(shape, "image")):
        try:
            return _picture(shape, keep_data_uris)
        except (AttributeError, ValueError, KeyError):
            return ""
    if getattr(shape, "has_table", False) and shape.has_table:
        return markdown_table([[cell.text for cell in row.cells] for row in shape.table.rows])
    if getattr(shape, "has_chart", False) and shape.has_chart:
        return _chart(shape.chart)
    if shape.has_text_frame and shape.text_frame.text.strip():
        text = shape.text_frame.text.strip()
        return "# " + " ".join(text.split()) if _is_title(shape) else text
    return ""


def _slide(slide, keep_data_uris: bool) -> tuple[str, str | None]:
    shapes = sorted(slide.shapes, key=lambda s: ((s.top or 0), (s.left or 0)))
    title_shape = slide.shapes.title
    parts = [_shape(title_shape, keep_data_uris)] if title_shape is not None else []
    parts += [_shape(s, keep_data_uris) for s in shapes if title_shape is None or s.shape_id != title_shape.shape_id]
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = slide.notes_slide.notes_text_frame.text.strip()
        if notes:
            parts.append("### Notes:\n" + notes)
    title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame else None
    return "\n\n".join(p for p in parts if p), title or None


def convert(data: bytes, context: Context) -> Document:
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise CorruptDocument(f"the PowerPoint file is damaged or not a .pptx ({exc})") from exc
    builder = PageBuilder()
    slides = list(presentation.slides)
    for number, slide in enumerate(slides, start=1):
        if not context.wants(number) or number > context.limits.max_pages:
            continue
        text, title = _slide(slide, context.keep_data_uris)
        builder.add(number, f"<!-- Slide number: {number} -->\n{text}", label=title)
    core = presentation.core_properties
    metadata = {k: str(v) for k, v in {"title": core.title, "author": core.author}.items() if v}
    warnings = []
    if len(slides) > context.limits.max_pages and context.pages is None:
        warnings.append(f"only the first {context.limits.max_pages} of {len(slides)} slides were converted (page limit)")
    first_title = builder.pages[0].label if builder.pages else None
    return Document(markdown=builder.markdown, format="pptx", title=metadata.get("title") or first_title,
                    metadata=metadata, pages=builder.pages, page_count=len(slides), warnings=warnings)

"""The memento-documents MCP server: tool declarations only; the work is in `service` and `convert`."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, ListRoots, MCPServer, Resolve
from mcp.types import CallToolResult, ImageContent, TextContent
from mcp_types import ListRootsResult
from pydantic import BaseModel, Field

from memento_core.text.slices import MAX_CHARS_DOC, NEXT_START_INDEX_DOC, START_INDEX_DOC, continuation_note
from memento_servers.documents.config import DocumentsSettings
from memento_servers.documents.errors import BadPageSelection
from memento_servers.documents.paginate import parse_pages, window
from memento_servers.documents.roots import allowed_roots
from memento_servers.documents.service import DocumentService
from memento_servers.runtime import ServerSpec, annotations, main_for, new_server

SUMMARY = "Read documents (PDF, office, HTML, archives...) as paginated markdown."
INSTRUCTIONS = (
    "Read local files (inside the allowed roots) and http(s) URLs as markdown: PDF, DOCX, PPTX, XLSX/XLS/CSV/TSV, "
    "HTML, EPUB, IPYNB, JSON/JSONL/XML/YAML, text, ZIP, images. Start with document_info for size and outline, "
    "use find_in_document to locate passages by page, then read_document with pages=... or start_index=... "
    "render_page shows a PDF page as an image (figures, charts, layout) to a model that takes image input."
)

Source = Annotated[
    str,
    Field(
        description="A file path or file:// URL inside the allowed roots (relative paths start at the first root), "
        "or an http(s) URL."
    ),
]


def ask_host_roots(ctx: Context) -> ListRoots | None:
    """The host's roots (`roots/list`) when the server has no --root and the host declares roots."""
    settings: DocumentsSettings = ctx.request_context.lifespan_context
    capabilities = ctx.client_capabilities
    if settings.roots or capabilities is None or capabilities.roots is None:
        return None
    return ListRoots()


HostRoots = Annotated[ListRootsResult | None, Resolve(ask_host_roots)]


class ReadResult(BaseModel):
    source: str = Field(description="The source as given.")
    format: str = Field(description="Detected format: pdf, docx, pptx, xlsx, html, csv, zip, ...")
    title: str | None = Field(description="The document's title when known.")
    markdown: str = Field(description="This slice of the document's markdown.")
    start_index: int = Field(description="Offset of this slice in the (page-selected) markdown.")
    next_start_index: int | None = Field(description=NEXT_START_INDEX_DOC)
    total_chars: int = Field(description="Length of the whole (page-selected) markdown.")
    page_count: int | None = Field(description="Pages (slides, sheets, chapters, archive members) in the document.")
    pages: list[int] = Field(description="Pages this slice covers.")
    metadata: dict[str, Any] = Field(description="Document metadata (author, dates, sheets, ...).")
    warnings: list[str] = Field(description="Problems met, e.g. pages without a text layer, limits reached.")
    note: str | None = Field(description="How to read the rest, when this slice is not the end.")


class InfoResult(BaseModel):
    source: str
    format: str
    size_bytes: int = Field(description="Size of the file or download.")
    title: str | None
    page_count: int | None = Field(description="Pages, slides, sheet pages, chapters or archive members.")
    page_labels: list[str] = Field(description="Names of the pages when they have them: sheet names, slide titles, members.")
    outline: list[dict[str, Any]] = Field(description="Bookmarks or headings: {level, title, page}.")
    metadata: dict[str, Any]
    total_chars: int | None = Field(None, description="Length of the full markdown, when it was converted.")
    warnings: list[str] = Field(default_factory=list)


class Passage(BaseModel):
    page: int | None = Field(description="Page of the passage (null for formats without pages).")
    start_index: int = Field(description="Offset of the passage in the full markdown: read_document(start_index=...).")
    text: str
    score: float
    exact: bool = Field(description="True when the query occurs verbatim (case-insensitive) in the passage.")


class FindResult(BaseModel):
    source: str
    query: str
    method: str = Field(description="bm25, or bm25+embeddings when semantic ranking was used.")
    total_chars: int
    passages: list[Passage]


class RenderResult(BaseModel):
    source: str
    page: int = Field(description="The page rendered.")
    page_count: int = Field(description="Pages in the document.")
    width: int = Field(description="Width of the image in pixels.")
    height: int = Field(description="Height of the image in pixels.")
    dpi: int
    mime_type: str = Field(description="Type of the image, which follows as MCP image content.")


def build_server(settings: DocumentsSettings) -> MCPServer:
    service = DocumentService(settings.service_config())

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[DocumentsSettings]:
        service.start()  # workers warm up in the background
        try:
            yield settings  # ask_host_roots reads whether --root was given
        finally:
            await service.close()

    server = new_server("documents", instructions=INSTRUCTIONS, lifespan=lifespan)

    async def load(source: str, host: ListRootsResult | None):
        return await service.load(source, allowed_roots(settings.roots, host, settings.allow_filesystem_root))

    @server.tool(title="Read document", annotations=annotations(read_only=True, open_world=True))
    async def read_document(
        source: Source,
        pages: Annotated[
            str | None,
            Field(description="Pages to read, e.g. '3', '1-5', '2,4,10-12' (slides, sheets, members for other formats). Default: all."),
        ] = None,
        max_chars: Annotated[
            int | None,
            Field(description=f"{MAX_CHARS_DOC} (default set by the server).", ge=100, le=500_000),
        ] = None,
        start_index: Annotated[int, Field(description=START_INDEX_DOC, ge=0)] = 0,
        host: HostRoots = None,
    ) -> ReadResult:
        """Read a document (local file in the allowed roots, or an http(s) URL) as markdown, a slice at a time.

        Use it for PDFs, Word, PowerPoint, Excel/CSV, HTML, EPUB, notebooks, JSON/XML/YAML, text and ZIP files.
        Only the requested pages of a PDF are converted, so ask for pages of big documents (see document_info).
        Returns markdown, format, title, page_count, the pages covered and warnings. Long content comes in
        slices of at most max_chars characters, each ending at a paragraph, line, sentence or word boundary if it
        has one: while next_start_index is not null, call again with start_index=next_start_index (and the same
        pages), as the note says.
        """
        selection = parse_pages(pages)
        loaded = await load(source, host)
        document = await service.document(loaded, selection)
        if selection and not document.pages:
            if document.page_count:
                raise BadPageSelection(f"pages={pages} is out of range: the document has {document.page_count} pages")
            raise BadPageSelection(f"{source} ({document.format}) has no pages; omit pages and use start_index instead")
        if start_index > len(document.markdown) > 0:
            raise BadPageSelection(f"start_index={start_index} is past the end ({len(document.markdown)} characters)")
        part = window(document, start_index, max_chars or settings.default_max_chars)
        return ReadResult(
            source=source, format=document.format, title=document.title, markdown=part.text, start_index=part.start,
            next_start_index=part.next_start, total_chars=part.total, page_count=document.page_count,
            pages=part.pages, metadata=document.metadata, warnings=document.warnings,
            note=continuation_note(part, pages=pages) if pages else continuation_note(part),
        )

    @server.tool(title="Document info", annotations=annotations(read_only=True, open_world=True))
    async def document_info(source: Source, host: HostRoots = None) -> InfoResult:
        """Describe a document before reading it: format, size, page count, page labels (sheets, slides,
        archive members), metadata and outline (PDF bookmarks or headings with their pages).

        A PDF is not converted for this, so it is fast even for long files. Then read the parts you need with
        read_document(pages=...) or locate them with find_in_document.
        """
        loaded = await load(source, host)
        info = await service.info(loaded)
        return InfoResult(source=source, size_bytes=loaded.size, **info)

    @server.tool(title="Find in document", annotations=annotations(read_only=True, open_world=True))
    async def find_in_document(
        source: Source,
        query: Annotated[str, Field(description="Words or a phrase to look for; exact phrase matches rank first.", min_length=1, max_length=1000)],
        max_results: Annotated[int, Field(description="Most passages to return.", ge=1, le=50)] = 5,
        host: HostRoots = None,
    ) -> FindResult:
        """Find the passages of a document that best match a query, with their page numbers, so you can read
        only those pages instead of the whole document.

        Ranks ~800-character passages by BM25 word matching (plus sentence embeddings when the server enables
        them); verbatim phrase matches come first. Each passage gives page and start_index for read_document.
        The whole document is converted once (then cached), so the first search of a long PDF takes longer.
        """
        loaded = await load(source, host)
        document, hits, semantic = await service.find(loaded, query, max_results)
        passages = [
            Passage(page=h.chunk.page, start_index=h.chunk.start, text=h.chunk.text, score=round(h.score, 4), exact=h.exact)
            for h in hits
        ]
        return FindResult(source=source, query=query, method="bm25+embeddings" if semantic else "bm25",
                          total_chars=len(document.markdown), passages=passages)

    @server.tool(title="Render page", annotations=annotations(read_only=True, open_world=True))
    async def render_page(
        source: Source,
        page: Annotated[int, Field(description="The 1-based page to render.", ge=1)] = 1,
        dpi: Annotated[
            int, Field(description="Resolution in dots per inch; the server's limit is max_render_dpi (see server_info).", ge=36, le=600)
        ] = 100,
        host: HostRoots = None,
    ) -> Annotated[CallToolResult, RenderResult]:
        """Render one page of a PDF as a PNG image, to look at what text cannot carry: figures, charts,
        scanned pages, layout.

        Returns the image's size and the page count, and the image. Only PDFs have pages to render; read other formats with
        read_document. The image is at most max_render_pixels pixels (see server_info): a big page at a high
        dpi is refused with the dpi that fits.
        """
        loaded = await load(source, host)
        size, png = await service.render(loaded, page, dpi)
        result = RenderResult(source=source, page=page, dpi=dpi, mime_type="image/png", **size)
        image = ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png")
        return CallToolResult(
            content=[TextContent(type="text", text=result.model_dump_json()), image], structured_content=result.model_dump()
        )

    return server


SPEC = ServerSpec(name="documents", summary=SUMMARY, settings=DocumentsSettings, build=build_server, default_port=8713)
main = main_for(SPEC)

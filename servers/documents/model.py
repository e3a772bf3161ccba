"""The data shapes of conversion: limits in, a `Document` out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from memento_core.units import mib


class Limits(BaseModel):
    """Bounds a conversion must stay within; exceeding one raises `LimitExceeded`."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(mib(50), gt=0, description="Largest input accepted, in bytes.")
    max_pages: int = Field(2000, gt=0, description="Most pages (PDF) or slides converted in one document.")
    max_rows: int = Field(5000, gt=0, description="Most rows rendered per spreadsheet sheet.")
    max_chars: int = Field(10_000_000, gt=0, description="Longest markdown produced; longer output is cut with a warning.")
    max_archive_members: int = Field(500, gt=0, description="Most members an archive may list.")
    max_uncompressed_bytes: int = Field(mib(200), gt=0, description="Largest total uncompressed size of an archive.")
    max_compression_ratio: float = Field(100.0, gt=1, description="Largest uncompressed/compressed ratio of an archive member.")
    max_nesting: int = Field(2, ge=0, description="How deep archives inside archives are opened.")


class PageSpan(BaseModel):
    """Where one page (slide, sheet, archive member) lies in the markdown: `markdown[start:end]`."""

    page: int = Field(description="1-based page number.")
    start: int = Field(description="Offset of the page's first character in the markdown.")
    end: int = Field(description="Offset just past the page's last character.")
    label: str | None = Field(None, description="A name for the page when it has one (sheet, slide title, member).")


class Document(BaseModel):
    """A converted document: markdown plus what is known about its structure."""

    markdown: str
    format: str = Field(description="Short format name: pdf, docx, pptx, xlsx, html, csv, zip, ...")
    title: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    pages: list[PageSpan] = Field(default_factory=list, description="Page spans; empty when the format has no pages.")
    page_count: int | None = Field(None, description="Pages in the source, including any not converted.")
    warnings: list[str] = Field(default_factory=list)


class PageBuilder:
    """Joins per-page markdown with blank lines and records each page's span."""

    SEPARATOR = "\n\n"

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pages: list[PageSpan] = []
        self.length = 0

    def add(self, page: int, text: str, label: str | None = None) -> None:
        if self.parts:
            self.parts.append(self.SEPARATOR)
            self.length += len(self.SEPARATOR)
        text = text.strip("\n")
        self.parts.append(text)
        self.pages.append(PageSpan(page=page, start=self.length, end=self.length + len(text), label=label))
        self.length += len(text)

    @property
    def markdown(self) -> str:
        return "".join(self.parts)

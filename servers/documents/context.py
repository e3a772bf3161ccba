"""What a format converter is told about the document it converts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from memento_servers.documents.model import Document, Limits


@dataclass(frozen=True)
class Context:
    """The input's name and type, the limits, and which pages are wanted (None: all)."""

    format: str
    filename: str | None = None
    content_type: str | None = None
    charset: str | None = None
    url: str | None = None
    limits: Limits = field(default_factory=Limits)
    pages: frozenset[int] | None = None
    depth: int = 0
    keep_data_uris: bool = False  # embedded images as full data: URIs instead of a short stand-in
    # converts a member of an archive (bytes, filename, depth) -> Document; set by `convert`
    nested: Callable[[bytes, str, int], Document] | None = None

    def wants(self, page: int) -> bool:
        return self.pages is None or page in self.pages

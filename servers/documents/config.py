"""Settings of memento-documents (flags, env MEMENTO_DOCUMENTS_*, TOML [documents])."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from memento_core.paths import cache_dir
from memento_core.settings import ServerSettings
from memento_core.units import mib
from memento_core.workers import WORKER_MEMORY_MB, WORKERS
from memento_servers.documents.model import Limits
from memento_servers.documents.service import ServiceConfig


class DocumentsSettings(ServerSettings):
    """Settings of memento-documents (env MEMENTO_DOCUMENTS_*, TOML [documents])."""

    roots: list[Path] = Field(
        default_factory=list,
        description="Folders whose files may be read (repeatable); source paths resolve against the first. Without "
        "any: the host's MCP roots, else the working directory unless it is /. A relative root is refused when the "
        "working directory is /, and a root that is / needs --allow-filesystem-root.",
        json_schema_extra={"cli": "--root"},
    )
    allow_filesystem_root: bool = Field(False, description="Allow a root that is / itself: every file on the disk.")
    max_file_mb: float = Field(50, gt=0, description="Largest file or download converted, in MiB.")
    max_pages: int = Field(2000, gt=0, description="Most pages (or slides, chapters) converted per document.")
    max_rows: int = Field(5000, gt=0, description="Most rows read per spreadsheet sheet or JSONL file.")
    max_archive_members: int = Field(500, gt=0, description="Most members a ZIP archive may have.")
    max_uncompressed_mb: float = Field(200, gt=0, description="Largest total uncompressed size of a ZIP archive, in MiB.")
    max_compression_ratio: float = Field(100, gt=1, description="Largest compression ratio of a ZIP member (zip bombs).")
    timeout_s: float = Field(60, gt=0, description="Wall-time limit for converting one document; the worker is killed after it.")
    workers: int = Field(WORKERS, ge=1, le=16, description="Warm worker processes that convert documents.")
    worker_memory_mb: int = Field(WORKER_MEMORY_MB, ge=256, description="Address-space limit of each worker process, in MiB.")
    cache: bool = Field(True, description="Keep converted documents on disk, keyed by content hash.")
    cache_mb: float = Field(1024, gt=0, description="Most the document cache keeps on disk, in MiB; the oldest entries are evicted.")
    default_max_chars: int = Field(20_000, ge=1000, description="Characters read_document returns when max_chars is not given.")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Non-public hosts/IPs/CIDRs that URL sources may reach (repeatable); public addresses are always allowed.",
        json_schema_extra={"cli": "--allow-host"},
    )
    fetch_timeout_s: float = Field(30, gt=0, description="Time limit for downloading a URL source.")
    semantic: bool = Field(
        False, description="Also rank find_in_document passages with sentence embeddings (needs sentence-transformers)."
    )
    max_render_dpi: int = Field(200, ge=100, le=600, description="Highest resolution render_page renders a page at, in dots per inch.")
    max_render_pixels: int = Field(
        4_000_000, ge=10_000, le=50_000_000, description="Most pixels (width x height) of one page image from render_page."
    )

    @field_validator("roots")
    @classmethod
    def _roots_are_folders(cls, roots: list[Path]) -> list[Path]:
        roots = [root.expanduser() for root in roots]
        cwd = Path.cwd()
        relative = [str(root) for root in roots if not root.is_absolute()]
        if relative and cwd.parent == cwd:
            raise ValueError(
                f"relative root {', '.join(relative)} would resolve against the working directory {cwd} (where hosts "
                "such as Claude Desktop start servers): pass an absolute folder, e.g. --root ~/papers"
            )
        missing = [str(root) for root in roots if not root.is_dir()]
        if missing:
            raise ValueError(f"not an existing folder: {', '.join(missing)}")
        return [root.resolve() for root in roots]

    @model_validator(mode="after")
    def _no_filesystem_root_by_accident(self) -> DocumentsSettings:
        if not self.allow_filesystem_root and any(root.parent == root for root in self.roots):
            raise ValueError(
                "a root is / (the whole disk): pass --root with an absolute folder, or --allow-filesystem-root "
                "to really serve every file"
            )
        return self

    def service_config(self) -> ServiceConfig:
        limits = Limits(
            max_bytes=mib(self.max_file_mb), max_pages=self.max_pages, max_rows=self.max_rows,
            max_archive_members=self.max_archive_members, max_uncompressed_bytes=mib(self.max_uncompressed_mb),
            max_compression_ratio=self.max_compression_ratio,
        )
        return ServiceConfig(
            limits=limits, timeout_s=self.timeout_s, workers=self.workers,
            worker_memory_mb=self.worker_memory_mb, cache_folder=cache_dir() / "documents" if self.cache else None,
            cache_max_bytes=mib(self.cache_mb),
            allow_hosts=tuple(self.allow_hosts), fetch_timeout_s=self.fetch_timeout_s, semantic=self.semantic,
            max_render_dpi=self.max_render_dpi, max_render_pixels=self.max_render_pixels,
        )

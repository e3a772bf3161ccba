"""ZIP archives: a listing page, then one page per member converted to markdown, within bomb-proof limits."""

from __future__ import annotations

import io
import zipfile

from memento_core.units import MIB
from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument, DocumentError, LimitExceeded
from memento_servers.documents.formats.tables import markdown_table
from memento_servers.documents.model import Document, PageBuilder

RATIO_CHECK_FROM = 1024 * 1024  # tiny members may compress well without being bombs


def check_bomb(members: list[zipfile.ZipInfo], context: Context) -> None:
    """Refuse archives over the member count, total size or compression ratio limits (headers are re-checked on read)."""
    limits = context.limits
    if len(members) > limits.max_archive_members:
        raise LimitExceeded(f"the archive has {len(members)} members, over the limit of {limits.max_archive_members}")
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise LimitExceeded(
            f"the archive would expand to {total / MIB:.0f} MB, over the {limits.max_uncompressed_bytes / MIB:.0f} MB limit"
        )
    for member in members:
        if member.file_size >= RATIO_CHECK_FROM and member.file_size > limits.max_compression_ratio * max(member.compress_size, 1):
            raise LimitExceeded(
                f"{member.filename} expands {member.file_size / max(member.compress_size, 1):.0f}x "
                f"(limit {limits.max_compression_ratio:.0f}x): refusing a likely zip bomb"
            )


def _read(archive: zipfile.ZipFile, member: zipfile.ZipInfo, context: Context) -> bytes:
    """The member's bytes, never more than its declared size (a lying header cannot expand past it)."""
    with archive.open(member) as handle:
        data = handle.read(min(member.file_size, context.limits.max_bytes) + 1)
    if len(data) > member.file_size or len(data) > context.limits.max_bytes:
        raise LimitExceeded(f"{member.filename} is larger than its header says or than the size limit")
    return data


def _member_page(archive: zipfile.ZipFile, member: zipfile.ZipInfo, context: Context, warnings: list[str]) -> str:
    heading = f"## File: {member.filename}"
    if member.flag_bits & 0x1:
        return f"{heading}\n\n(encrypted member: not read)"
    if context.depth >= context.limits.max_nesting and member.filename.lower().endswith(".zip"):
        return f"{heading}\n\n(nested archive: not opened, nesting limit {context.limits.max_nesting})"
    try:
        document = context.nested(_read(archive, member, context), member.filename, context.depth + 1)
    except DocumentError as exc:
        warnings.append(f"{member.filename}: {exc}")
        return f"{heading}\n\n(not converted: {exc})"
    return f"{heading}\n\n{document.markdown}"


def convert(data: bytes, context: Context) -> Document:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocument(f"the ZIP archive is damaged or truncated ({exc})") from exc
    check_bomb(members, context)
    name = context.filename or "archive"
    listing = markdown_table([["member", "size (bytes)"], *[[m.filename, m.file_size] for m in members]])
    builder = PageBuilder()
    builder.add(1, f"# Archive: {name}\n\n{len(members)} files\n\n{listing}", label="listing")
    warnings: list[str] = []
    for number, member in enumerate(members, start=2):
        if context.wants(number):
            try:
                page = _member_page(archive, member, context, warnings)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise CorruptDocument(f"the ZIP archive is damaged: {member.filename} cannot be read ({exc})") from exc
            builder.add(number, page, label=member.filename)
    return Document(markdown=builder.markdown, format="zip", title=name, pages=builder.pages, page_count=len(members) + 1,
                    metadata={"members": len(members)}, warnings=warnings)

"""What the indexer reads: files found under the given paths, as documents (id, title, text, url).

Files go through the documents server's converter (`memento_servers.documents.convert`);
`.jsonl` files hold one document per line: `_id` (or `id`), `title`, `text`, optional `url`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from memento_servers.search.errors import IndexingError

CONVERTED = frozenset({".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf", ".docx", ".pptx", ".epub"})
JSONL = ".jsonl"


@dataclass(frozen=True)
class SourceDoc:
    doc_id: str
    title: str
    text: str
    url: str


def _wanted(path: Path) -> bool:
    return path.suffix.lower() in CONVERTED or path.suffix.lower() == JSONL


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(files to index, folders scanned): supported files under each path, hidden entries skipped."""
    files: list[Path] = []
    folders: list[Path] = []
    for given in paths:
        path = Path(given).expanduser().resolve()
        if path.is_file():
            if not _wanted(path):
                raise IndexingError(f"{path}: unsupported type (index {', '.join(sorted(CONVERTED | {JSONL}))})")
            files.append(path)
        elif path.is_dir():
            folders.append(path)
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and _wanted(p) and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        else:
            raise IndexingError(f"{given}: no such file or folder")
    return list(dict.fromkeys(files)), folders


def read_jsonl(path: Path, data: bytes) -> list[SourceDoc]:
    """Documents of a JSONL file; a malformed line fails the whole file with its line number."""
    docs: dict[str, SourceDoc] = {}
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IndexingError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise IndexingError(f"{path}:{number}: each line must be an object with a string 'text'")
        doc_id = str(record.get("_id") or record.get("id") or f"{path.stem}:{number}")
        title = html.unescape(str(record.get("title") or ""))
        url = str(record.get("url") or f"local://{path.stem}/{doc_id}")
        docs[doc_id] = SourceDoc(doc_id=doc_id, title=title, text=record["text"], url=url)
    return list(docs.values())


def read_document(path: Path, max_bytes: int) -> list[SourceDoc]:
    """The file converted to markdown by the documents server's converter, as one document."""
    from memento_servers.documents.convert import DocumentError, Limits, convert_file

    try:
        document = convert_file(path, limits=Limits(max_bytes=max_bytes))
    except DocumentError as exc:
        raise IndexingError(f"{path}: {exc}") from None
    return [SourceDoc(doc_id=str(path), title=document.title or path.stem, text=document.markdown, url=path.as_uri())]


def read_source(path: Path, data: bytes, max_bytes: int) -> list[SourceDoc]:
    if path.suffix.lower() == JSONL:
        return read_jsonl(path, data)
    return read_document(path, max_bytes)

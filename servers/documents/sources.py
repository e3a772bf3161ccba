"""Where a document comes from: a path confined to the allowed roots, or an http(s) URL."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from memento_servers.documents.errors import SourceRefused

URL_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class Source:
    """A resolved source: exactly one of `path` (inside a root) and `url` is set."""

    text: str
    path: Path | None = None
    url: str | None = None

    @property
    def name(self) -> str:
        if self.path is not None:
            return self.path.name
        return urlsplit(self.url or "").path.rsplit("/", 1)[-1] or "download"


def _scheme(source: str) -> str | None:
    scheme = urlsplit(source).scheme.lower()
    # a one-letter scheme is a Windows drive letter, not a URL
    return scheme if len(scheme) > 1 else None


def resolve_source(source: str, roots: list[Path]) -> Source:
    """Resolve `source` or raise `SourceRefused` naming the roots and what to do instead."""
    source = source.strip()
    if not source:
        raise SourceRefused("source is empty: give a file path inside the allowed roots or an http(s) URL")
    scheme = _scheme(source)
    if scheme in URL_SCHEMES:
        return Source(text=source, url=source)
    if scheme == "file":
        return Source(text=source, path=confine(str(file_url_path(source)), roots))
    if scheme is not None:
        raise SourceRefused(
            f"{scheme}: sources are refused; give a path inside the allowed roots ({_roots(roots)}) or an http(s) URL"
        )
    return Source(text=source, path=confine(source, roots))


def file_url_path(url: str) -> Path:
    """The path of a `file://` URL (`file:///a%20b/c` -> /a b/c); only URLs of this machine have one."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise SourceRefused(f"{url}: only file:// URLs of this machine (file:///path) name local files")
    return Path(unquote(parts.path))


def _roots(roots: list[Path]) -> str:
    return ", ".join(str(r) for r in roots)


def confine(source: str, roots: list[Path]) -> Path:
    """The real path of `source` (relative to the first root), if it lies inside one of `roots`."""
    resolved_roots = [Path(os.path.realpath(root)) for root in roots]
    candidate = Path(source)
    if not candidate.is_absolute():
        candidate = resolved_roots[0] / candidate
    real = Path(os.path.realpath(candidate))
    if not any(real == root or real.is_relative_to(root) for root in resolved_roots):
        raise SourceRefused(
            f"{source} is outside the allowed roots ({_roots(roots)}); only files inside them can be read "
            "(symlinks and '..' are resolved first)"
        )
    if not real.exists():
        raise SourceRefused(f"{source} does not exist (paths are relative to {resolved_roots[0]})")
    if real.is_dir():
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in real.iterdir())[:50]
        raise SourceRefused(f"{source} is a directory; pick a file in it: {', '.join(entries) or '(empty)'}")
    if not real.is_file():
        raise SourceRefused(f"{source} is not a regular file")
    return real


def open_confined(path: Path, roots: list[Path]) -> int:
    """A read-only descriptor of `path` (a real path from `confine`), opened one component at a time from
    its root's directory without following symlinks: a folder swapped after the check cannot lead out of
    the root. The caller closes it."""
    root = next(r for r in map(Path, map(os.path.realpath, roots)) if path.is_relative_to(r))
    *folders, name = path.relative_to(root).parts
    steps = [(folder, os.O_DIRECTORY) for folder in folders] + [(name, os.O_NONBLOCK)]
    fd = -1
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        for part, flags in steps:
            parent, fd = fd, -1
            try:
                fd = os.open(part, os.O_RDONLY | os.O_NOFOLLOW | flags, dir_fd=parent)
            finally:
                os.close(parent)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
    except OSError:
        if fd >= 0:
            os.close(fd)
        raise SourceRefused(
            f"{path} changed while it was being opened (a folder or file on its path was replaced, e.g. by a "
            "symlink); only files inside the allowed roots can be read"
        ) from None
    return fd

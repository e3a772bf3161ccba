"""File operations confined to one session's workspace folder.

Paths are relative to the workspace (or start with /workspace, the sandbox's view of it). Every
component is opened relative to its parent with O_NOFOLLOW, so neither `..` nor a symlink that
code inside the sandbox planted (even one swapped in mid-call) can lead outside.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from memento_servers.code.errors import WorkspaceError
from memento_servers.code.sandbox import WORKSPACE
from memento_servers.code.tree import DIR_FLAGS, usage, walk

MAX_ENTRIES = 10_000  # listed at most
MAX_FILES = 100_000  # a workspace with more entries counts as over its limit
MAX_DEPTH = 64  # folders listed below the one asked for


@dataclass(frozen=True)
class Entry:
    path: str
    kind: str  # file | dir | symlink | other
    size: int
    mtime_ns: int


def split(path: str) -> list[str]:
    """The components of a workspace path; refuses anything that could leave the workspace."""
    if "\x00" in path:
        raise WorkspaceError("the path contains a NUL byte")
    pure = PurePosixPath(path.strip() or ".")
    if pure.is_absolute():
        try:
            pure = pure.relative_to(WORKSPACE)
        except ValueError:
            raise WorkspaceError(
                f"{path!r} is outside the workspace: give a path relative to it (e.g. data/input.csv) or under {WORKSPACE}/"
            ) from None
    parts = [p for p in pure.parts if p != "."]
    if ".." in parts:
        raise WorkspaceError(f"{path!r} uses '..': paths must stay inside the workspace")
    return parts


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    return "symlink" if stat.S_ISLNK(mode) else "other"


class Workspace:
    """One session's folder, seen from the host."""

    def __init__(self, root: Path, *, max_bytes: int, max_file_bytes: int, owner: int | None = None):
        self.root = root
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes
        self.owner = owner  # host uid the sandbox runs as, if not this server's: files written get it

    @contextmanager
    def _directory(self, parts: list[str], *, create: bool = False) -> Iterator[int]:
        """An fd of the folder `parts`, reached without following any symlink."""
        fd = os.open(self.root, DIR_FLAGS)
        try:
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o755, dir_fd=fd)
                        if self.owner is not None:
                            os.chown(part, self.owner, self.owner, dir_fd=fd, follow_symlinks=False)
                    except FileExistsError:
                        pass
                try:
                    child = os.open(part, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    raise self._refusal(exc, part) from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    @staticmethod
    def _refusal(exc: OSError, part: str) -> WorkspaceError:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            return WorkspaceError(f"{part!r} is a symlink or not a folder: file tools never follow symlinks")
        if exc.errno == errno.ENOENT:
            return WorkspaceError(f"{part!r} does not exist in the workspace (list_files shows what does)")
        return WorkspaceError(f"{part!r}: {exc.strerror}")

    def read(self, path: str, *, offset: int, limit: int) -> tuple[bytes, int]:
        """Up to `limit` bytes from `offset`, and the file's total size."""
        parts = split(path)
        if not parts:
            raise WorkspaceError("give a file path, not the workspace itself")
        with self._directory(parts[:-1]) as folder:
            try:
                fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=folder)
            except OSError as exc:
                raise self._refusal(exc, parts[-1]) from None
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise WorkspaceError(f"{path!r} is a {_kind(info.st_mode)}, not a regular file")
            handle.seek(offset)
            return handle.read(limit), info.st_size

    def write(self, path: str, data: bytes, *, append: bool) -> int:
        """Write (or append) `data`; returns the file's new size."""
        parts = split(path)
        if not parts:
            raise WorkspaceError("give a file path, not the workspace itself")
        if len(data) > self.max_file_bytes:
            raise WorkspaceError(f"{len(data)} bytes exceed the {self.max_file_bytes}-byte file limit")
        if self.size() + len(data) > self.max_bytes:
            raise WorkspaceError(f"the workspace would exceed its {self.max_bytes}-byte limit: delete files first")
        flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
        flags |= os.O_APPEND if append else os.O_TRUNC
        with self._directory(parts[:-1], create=True) as folder:
            try:
                fd = os.open(parts[-1], flags, 0o644, dir_fd=folder)
            except OSError as exc:
                raise self._refusal(exc, parts[-1]) from None
        with os.fdopen(fd, "wb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise WorkspaceError(f"{path!r} is not a regular file")
            if self.owner is not None:
                os.fchown(handle.fileno(), self.owner, self.owner)
            handle.write(data)
            handle.flush()
            return os.fstat(handle.fileno()).st_size

    def entries(self, path: str = ".", *, recursive: bool = True) -> tuple[list[Entry], str | None]:
        """Files and folders under `path` (symlinks listed, never followed), and a note on what was left out:
        entries past MAX_ENTRIES, or inside folders nested deeper than MAX_DEPTH."""
        found: list[Entry] = []
        parts = split(path)
        deep = False
        with self._directory(parts) as folder:
            for _, below, items in walk(folder, max_depth=MAX_DEPTH if recursive else 0):
                prefix = "/".join([*parts, *below])
                for name, info in items:
                    if len(found) >= MAX_ENTRIES:
                        return found, f"only the first {MAX_ENTRIES} entries are listed: list a sub-folder"
                    found.append(Entry(f"{prefix}/{name}" if prefix else name, _kind(info.st_mode), info.st_size, info.st_mtime_ns))
                    deep = deep or (recursive and len(below) == MAX_DEPTH and stat.S_ISDIR(info.st_mode))
        return found, f"folders nested deeper than {MAX_DEPTH} levels are not listed" if deep else None

    def snapshot(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime) of every regular file: compared before and after a call."""
        return {e.path: (e.size, e.mtime_ns) for e in self.entries()[0] if e.kind == "file"}

    def size(self) -> int:
        return tree_usage(self.root)[0]


def tree_usage(root: Path, max_files: int = MAX_FILES) -> tuple[int, int]:
    """(bytes on disk, entries) under `root`, symlinks not followed; stops counting past `max_files` entries."""
    try:
        top = os.open(root, DIR_FLAGS)
    except FileNotFoundError:
        return 0, 0
    try:
        return usage(top, max_files)
    finally:
        os.close(top)


def changed_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """Files that are new or were modified between two snapshots."""
    return sorted(path for path, state in after.items() if before.get(path) != state)

"""Walking and removing folder trees of any depth.

Code in the sandbox can build a tree deeper than PATH_MAX, so no full path is ever formed: the walk
holds one directory fd at a time, opens children relative to it with O_NOFOLLOW and climbs back
through "..", checking on each climb that it lands in the folder it came from.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

Listing = list[tuple[str, os.stat_result]]


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _list(fd: int) -> Listing:
    """(name, lstat) of each entry of the open folder `fd`, sorted; entries that vanish are skipped."""
    found = []
    with os.scandir(fd) as items:
        for item in items:
            try:
                found.append((item.name, item.stat(follow_symlinks=False)))
            except OSError:
                continue
    return sorted(found)


def walk(
    top: int, *, max_depth: int | None = None, leave: Callable[[int, str], None] | None = None
) -> Iterator[tuple[int, tuple[str, ...], Listing]]:
    """Pre-order (folder fd, path parts below `top`, entries) of the tree under the open folder `top`.
    Folders deeper than `max_depth` are not entered; `leave(parent_fd, name)` runs after a folder's subtree.
    Raises OSError if a folder is moved while being walked."""
    fd = os.dup(top)
    parts: list[str] = []
    seen = [_identity(fd)]
    pending: list[list[str]] = []
    try:
        while True:
            entries = _list(fd)
            yield fd, tuple(parts), entries
            deeper = max_depth is None or len(parts) < max_depth
            pending.append(sorted((n for n, i in entries if deeper and stat.S_ISDIR(i.st_mode)), reverse=True))
            while True:
                if pending[-1]:
                    name = pending[-1].pop()
                    try:
                        child = os.open(name, DIR_FLAGS, dir_fd=fd)
                    except OSError:
                        continue
                    os.close(fd)
                    fd = child
                    parts.append(name)
                    seen.append(_identity(fd))
                    break
                pending.pop()
                if not parts:
                    return
                parent = os.open("..", DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = parent
                seen.pop()
                if _identity(fd) != seen[-1]:
                    raise OSError(f"a folder was moved while {'/'.join(parts[:3])}... was walked")
                name = parts.pop()
                if leave is not None:
                    leave(fd, name)
    finally:
        os.close(fd)


def usage(top: int, max_entries: int) -> tuple[int, int]:
    """(bytes on disk, entries) under the open folder `top`; stops counting past `max_entries` entries."""
    total = count = 0
    for _, _, entries in walk(top):
        count += len(entries)
        total += sum(info.st_blocks * 512 for _, info in entries if not stat.S_ISDIR(info.st_mode))
        if count > max_entries:
            break
    return total, count


def remove_tree(root: Path) -> None:
    """Delete `root` and everything under it, however deep (a symlink is removed, never followed)."""
    try:
        top = os.open(root, DIR_FLAGS)
    except FileNotFoundError:
        return
    except OSError:
        os.unlink(root)
        return
    try:
        for fd, _, entries in walk(top, leave=lambda parent, name: os.rmdir(name, dir_fd=parent)):
            for name, info in entries:
                if stat.S_ISDIR(info.st_mode):
                    os.chmod(name, 0o700, dir_fd=fd)  # code may have locked a folder with chmod 000
                else:
                    os.unlink(name, dir_fd=fd)
    finally:
        os.close(top)
    os.rmdir(root)

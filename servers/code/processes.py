"""Finding and killing a sandbox's processes from the host, through /proc (no path assumptions)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable


def _children() -> dict[int, list[int]]:
    """parent pid -> child pids, of every process visible in /proc."""
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(ppid, []).append(int(name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before children."""
    tree, found, queue = _children(), [], [pid]
    while queue:
        for child in tree.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def argv(pid: int) -> list[bytes]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().split(b"\0")
    except OSError:
        return []


def kill_all(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL `pid` and everything below it (collected first, so nothing escapes by reparenting)."""
    kill_all([pid, *descendants(pid)])


def kill_strays(pid: int, keeper_args: list[bytes]) -> int:
    """Kill every process below `pid` except the shallowest whose argv[1:] starts with `keeper_args`, and
    its ancestors: what a call left running beside a kernel that survives it. Returns how many were killed."""
    below = descendants(pid)
    keeper = next((p for p in [pid, *below] if argv(p)[1 : 1 + len(keeper_args)] == keeper_args), None)
    if keeper is None:
        return 0
    parents = {child: parent for parent, kids in _children().items() for child in kids}
    keep, walker = {keeper}, keeper
    while walker in parents and walker != pid:
        walker = parents[walker]
        keep.add(walker)
    strays = [p for p in below if p not in keep]
    kill_all(strays)
    return len(strays)

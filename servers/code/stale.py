"""Session folders left by a code server that died without cleaning up (a SIGKILL, a crash): removed at the next start.

Each server writes its pid and start time into its folder; a later server removes the folders under the
same workspace root whose owner no longer runs (a recycled pid has another start time). Only real
folders owned by this user are considered, and trees are removed by fd walking (`tree.py`).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from memento_servers.code.quota import unmount_all_under
from memento_servers.code.tree import remove_tree

log = logging.getLogger(__name__)

PREFIX = "memento-code-"
OWNER_FILE = "server.pid"


def _identity(pid: int) -> str | None:
    """`pid` and its start time (clock ticks since boot), or None when no such process runs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            started = stat.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None
    return f"{pid} {started}"


def claim(folder: Path) -> None:
    """Mark `folder` as this process's."""
    (folder / OWNER_FILE).write_text(_identity(os.getpid()) or str(os.getpid()))


def remove_stale(root: Path) -> int:
    """Remove the session folders under `root` whose server is gone; returns how many."""
    removed = 0
    for folder in root.glob(f"{PREFIX}*"):
        try:
            info = folder.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue  # a symlink or another user's folder: never followed, never ours
            owner = (folder / OWNER_FILE).read_text().strip()
        except OSError:
            continue  # not claimed (yet, or by an older version): not ours to judge
        pid = owner.split()[0]
        if not pid.isdigit() or _identity(int(pid)) == owner:
            continue
        log.info("removing %s, left by code server %s that no longer runs", folder, pid)
        try:
            unmount_all_under(folder)
            remove_tree(folder)
            removed += 1
        except OSError as exc:
            log.warning("could not remove %s: %s", folder, exc)
    return removed

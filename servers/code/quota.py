"""An enforced disk quota per session: a tmpfs of the workspace's size.

Where this server may mount (root or CAP_SYS_ADMIN), what a session may write (workspace, kernel
sockets) is a size- and inode-capped tmpfs mounted on the host: a write past the cap
fails inside the sandbox with ENOSPC, and the server reads the same files. tmpfs is memory, charged to
the writer's memory cgroup, so the session's memory cap covers it too. Where mounting is not allowed,
the quota is polled instead: a call that overfills the workspace is stopped within about a second.

The server first moves into a mount namespace of its own (`private_mounts`), so these tmpfs exist only
there: the kernel tears them down once the server and its sandboxes are gone, even after a SIGKILL.
From the host they are seen through the server's root, `/proc/<server pid>/root/<session folder>`.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

MS_NOSUID, MS_NODEV, MS_REC, MS_SLAVE = 2, 4, 1 << 14, 1 << 19
MNT_DETACH = 2
CLONE_NEWNS = 0x00020000
HEADROOM = 256 * 1024  # beyond the workspace limit: room for the kernel's sockets
_libc = ctypes.CDLL(None, use_errno=True)


def private_mounts() -> bool:
    """Move this process into a mount namespace of its own whose mounts never propagate to the host. Call it
    before any thread starts (a namespace is per thread; threads started later inherit it). False if not allowed
    (then this process cannot mount a quota either)."""
    if _libc.unshare(CLONE_NEWNS) != 0:
        return False
    if _libc.mount(b"none", b"/", None, MS_REC | MS_SLAVE, None) != 0:
        log.warning("cannot stop mounts propagating to the host: %s", os.strerror(ctypes.get_errno()))
    return True


def unmount_all_under(folder: Path) -> None:
    """Detach every mount at or below `folder` in this namespace, deepest first."""
    prefix = os.fsencode(folder)
    with open("/proc/self/mountinfo", "rb") as table:
        points = [line.split()[4] for line in table]
    for point in sorted((p for p in points if p == prefix or p.startswith(prefix + b"/")), key=len, reverse=True):
        unmount_quota(Path(os.fsdecode(point)))


def mount_quota(folder: Path, max_bytes: int, max_entries: int) -> bool:
    """Mount a tmpfs capped at `max_bytes` (+ headroom) and `max_entries` inodes on `folder`;
    False if this process may not mount."""
    options = f"size={max_bytes + HEADROOM},nr_inodes={max_entries},mode=0755".encode()
    if _libc.mount(b"memento-code", os.fsencode(folder), b"tmpfs", MS_NOSUID | MS_NODEV, options) == 0:
        return True
    code = ctypes.get_errno()
    log.info("cannot mount a quota tmpfs (%s): the workspace size limit is polled", os.strerror(code))
    return False


def unmount_quota(folder: Path) -> None:
    """Detach the tmpfs on `folder` (its memory is freed once nothing holds it open)."""
    if _libc.umount2(os.fsencode(folder), MNT_DETACH) != 0 and ctypes.get_errno() not in (errno.EINVAL, errno.ENOENT):
        log.warning("cannot unmount %s: %s", folder, os.strerror(ctypes.get_errno()))


def mounted_usage(folder: Path) -> tuple[int, int]:
    """(bytes, inodes) used in the tmpfs on `folder`."""
    info = os.statvfs(folder)
    return (info.f_blocks - info.f_bfree) * info.f_frsize, info.f_files - info.f_ffree


def full(folder: Path) -> bool:
    """Whether the tmpfs on `folder` has (almost) no room left."""
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize < HEADROOM // 2 or info.f_favail < 16

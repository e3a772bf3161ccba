"""Per-session process and memory caps through cgroups, where this server may create them.

Why: RLIMIT_NPROC counts processes per user and is not enforced for a sandbox whose outer user
is root, so a fork bomb is capped by the `pids` controller instead. The `memory` controller caps
a session's total memory (RLIMIT_AS only caps each process). cgroup v1 (separate `pids` and
`memory` hierarchies) and a delegated cgroup v2 are both supported; without either, the
rlimits alone apply and the server logs which caps are missing.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from memento_core.units import mib

log = logging.getLogger(__name__)

CONTROLLERS = ("pids", "memory")


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per controller ("" key: the v2 unified hierarchy)."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            paths[name] = path
    return paths


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, options) of every cgroup filesystem."""
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        _, point, fstype, options, *_ = line.split()
        if fstype in ("cgroup", "cgroup2"):
            found.append((point, fstype, set(options.split(","))))
    return found


@dataclass
class CgroupLimits:
    """Creates one cgroup per session (per controller) under this server's own folder."""

    parents: dict[str, Path]  # controller -> this server's folder in that hierarchy
    v2: bool

    @classmethod
    def detect(cls, instance: str) -> CgroupLimits | None:
        try:
            return cls._detect_v2(instance) or cls._detect_v1(instance)
        except OSError as exc:
            log.info("cgroups unusable (%s): only per-process rlimits cap sessions", exc)
            return None

    @classmethod
    def _detect_v1(cls, instance: str) -> CgroupLimits | None:
        own = _own_paths()
        parents = {}
        for point, fstype, options in _mounts():
            for controller in CONTROLLERS:
                if fstype == "cgroup" and controller in options and controller in own:
                    parents[controller] = Path(point) / own[controller].lstrip("/") / instance
        if set(parents) != set(CONTROLLERS):
            return None
        for folder in parents.values():
            folder.mkdir(exist_ok=True)
        return cls(parents, v2=False)

    @classmethod
    def _detect_v2(cls, instance: str) -> CgroupLimits | None:
        point = next((p for p, fstype, _ in _mounts() if fstype == "cgroup2"), None)
        own = _own_paths().get("")
        if point is None or own is None:
            return None
        home = Path(point) / own.lstrip("/")
        if not set(CONTROLLERS) <= set((home / "cgroup.subtree_control").read_text().split()):
            return None  # not delegated to us; enabling it would need an empty cgroup
        folder = home / instance
        folder.mkdir(exist_ok=True)
        (folder / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in CONTROLLERS))
        return cls({c: folder for c in CONTROLLERS}, v2=True)

    def create(self, name: str, *, max_processes: int, memory_mb: int) -> list[Path]:
        """The session's cgroups with their caps set; returns the `cgroup.procs` files to join."""
        memory = str(mib(memory_mb))
        folders = {c: p / name for c, p in self.parents.items()}
        for folder in set(folders.values()):
            folder.mkdir(exist_ok=True)
        (folders["pids"] / "pids.max").write_text(str(max_processes))
        if self.v2:
            (folders["memory"] / "memory.max").write_text(memory)
            (folders["memory"] / "memory.swap.max").write_text("0")
        else:
            (folders["memory"] / "memory.limit_in_bytes").write_text(memory)
        return sorted({f / "cgroup.procs" for f in folders.values()})

    def remove(self, name: str) -> None:
        """Kill whatever is left in the session's cgroups and delete them (waits up to 2 s)."""
        deadline = time.monotonic() + 2.0
        for folder in {p / name for p in self.parents.values()}:
            while folder.exists():
                try:
                    pids = (folder / "cgroup.procs").read_text().split()
                except FileNotFoundError:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    folder.rmdir()
                except OSError as exc:
                    if time.monotonic() > deadline:
                        log.warning("cannot remove cgroup %s: %s", folder, exc)
                        break
                    time.sleep(0.01)

    def close(self) -> None:
        for folder in set(self.parents.values()):
            try:
                folder.rmdir()
            except OSError as exc:
                log.debug("cannot remove %s: %s", folder, exc)


def joining(procs: list[Path], argv: list[str]) -> list[str]:
    """`argv` run by a shell that first moves itself into the given cgroups, so that every
    process the command forks is counted from the start."""
    moves = " && ".join(f"echo $$ > {shlex.quote(str(p))}" for p in procs)
    return ["/bin/sh", "-c", f"{moves} && exec {shlex.join(argv)}"]

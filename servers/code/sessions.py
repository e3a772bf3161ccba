"""Sessions: a workspace, an optional running kernel, limits, idle expiry and a warm spare.

A session is created by the first call that names none. Its kernel starts on the first
`run_python`; a crashed or killed kernel leaves the session `dead` until `reset_session`.
"""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from memento_core.units import mib
from memento_servers.code.cgroups import CgroupLimits, joining
from memento_servers.code.config import CodeSettings
from memento_servers.code.errors import SessionError
from memento_servers.code.kernel import Kernel
from memento_servers.code.quota import mount_quota, unmount_quota
from memento_servers.code.sandbox import Sandbox, check_sandbox
from memento_servers.code.stale import PREFIX, claim, remove_stale
from memento_servers.code.tree import remove_tree
from memento_servers.code.workspace import MAX_FILES, Workspace

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class Session:
    id: str
    folder: Path
    workspace: Workspace
    wrap: Callable[[list[str]], list[str]]
    quota: bool = False  # the folder is a size-capped tmpfs (see quota.py)
    created: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    kernel: Kernel | None = None
    dead: str | None = None  # why the kernel is gone; cleared by reset
    busy: bool = False
    calls: int = 0
    lock: anyio.Lock = field(default_factory=anyio.Lock)

    @property
    def disk(self) -> Path:
        """What the sandbox may write (workspace, kernel sockets, unsafe mode's /tmp): the quota's mount point."""
        return self.folder / "disk"

    @property
    def sockets(self) -> Path:
        return self.disk / "sockets"

    @property
    def host(self) -> Path:
        """Files only the server writes; never bound into the sandbox."""
        return self.folder / "host"

    @property
    def state(self) -> str:
        if self.dead:
            return "dead"
        if self.busy:
            return "busy"
        return "no_kernel" if self.kernel is None else "idle"

    def touch(self) -> None:
        self.last_used = time.monotonic()


class SessionManager:
    """Owns every session of one server process."""

    def __init__(self, settings: CodeSettings, sandbox: Sandbox):
        self.settings = settings
        self.sandbox = sandbox
        self.sessions: dict[str, Session] = {}
        self.spares: list[Session] = []
        root = settings.workspace_root or Path(tempfile.gettempdir())
        remove_stale(root)
        self.base = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        claim(self.base)
        self.cgroups = CgroupLimits.detect(self.base.name) if settings.cgroups and sandbox.isolated else None
        unprivileged = self.cgroups is None and sandbox.run_as_unprivileged()
        self.caps = "cgroups" if self.cgroups else "unprivileged_uid" if unprivileged else "rlimits"
        self.mountable: bool | None = None  # whether quota tmpfs mounts work here; known after the first
        sandbox.prepare(self.base / "etc")
        self.sandbox_error: Exception | None = None
        self._checked = False
        self._refill = anyio.Event()
        log.info(
            "code sessions in %s; sandbox %s; caps via %s",
            self.base, "bubblewrap" if sandbox.isolated else "DISABLED (unsafe)", self.caps,
        )  # fmt: skip

    # lifecycle -----------------------------------------------------------------------------
    async def run(self) -> None:
        """Background duties until cancelled: keep spares warm, close idle sessions."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._keep_warm)
            group.start_soon(self._expire_idle)

    async def close_all(self) -> None:
        for session in [*self.sessions.values(), *self.spares]:
            self._destroy(session)
        self.sessions.clear()
        self.spares.clear()
        if self.cgroups:
            self.cgroups.close()
        _remove(self.base)

    async def _expire_idle(self) -> None:
        while True:
            await anyio.sleep(min(30.0, self.settings.idle_timeout_s / 2))
            cutoff = time.monotonic() - self.settings.idle_timeout_s
            for session in [s for s in self.sessions.values() if s.last_used < cutoff and not s.busy]:
                log.info("closing session %s after %.0f s idle", session.id, self.settings.idle_timeout_s)
                self.close(session.id)

    async def _keep_warm(self) -> None:
        while True:
            while len(self.spares) < self.settings.warm_kernels and self.sandbox_error is None:
                try:
                    spare = self._new_session()
                    try:
                        await self.start_kernel(spare)
                    except BaseException:
                        self._destroy(spare)
                        raise
                    self.spares.append(spare)
                except Exception as exc:  # a failing sandbox is reported to callers, not fatal here
                    log.warning("could not warm a session: %s", exc)
                    await anyio.sleep(5)
            self._refill = anyio.Event()
            await self._refill.wait()

    # creating and finding ----------------------------------------------------------------
    def _check(self) -> None:
        if not self._checked:
            try:
                scratch = self.base / "check"
                check_sandbox(self.sandbox, scratch)
                _remove(scratch)
            except Exception as exc:
                self.sandbox_error = exc
            self._checked = True
        if self.sandbox_error is not None:
            raise self.sandbox_error

    def _new_session(self) -> Session:
        self._check()
        session_id = secrets.token_hex(6)
        folder = self.base / session_id
        (folder / "host").mkdir(parents=True)
        (folder / "disk").mkdir()
        quota = self._mount(folder / "disk")
        for sub in ("workspace", "sockets", "tmp"):
            (folder / "disk" / sub).mkdir()
            self.sandbox.own(folder / "disk" / sub)
        workspace = Workspace(
            folder / "disk" / "workspace", max_bytes=mib(self.settings.workspace_mb),
            max_file_bytes=mib(self.settings.max_file_mb), owner=self.sandbox.outer_uid,
        )  # fmt: skip
        return Session(session_id, folder, workspace, self._confine(session_id), quota=quota)

    def _mount(self, folder: Path) -> bool:
        """Make `folder` a size-capped tmpfs, if this server may mount (tried once, then remembered)."""
        if self.mountable is not False:
            self.mountable = mount_quota(folder, mib(self.settings.workspace_mb), MAX_FILES)
        return self.mountable

    def _confine(self, session_id: str) -> Callable[[list[str]], list[str]]:
        """Fresh cgroups for the session (when usable) and the wrapper that makes a command join them."""
        if self.cgroups is None:
            return lambda argv: argv
        procs = self.cgroups.create(session_id, max_processes=self.settings.max_processes, memory_mb=self.settings.memory_mb)
        return lambda argv: joining(procs, argv)

    def create(self, *, warm: bool = False) -> Session:
        """A new session (a warm one, with its kernel running, when `warm` and one is ready). At the cap,
        the session idle longest is closed to make room; only when every session is busy is this refused."""
        if len(self.sessions) >= self.settings.max_sessions:
            idle = [s for s in self.sessions.values() if not s.busy]
            if not idle:
                raise SessionError(
                    f"all {len(self.sessions)} sessions (the limit) are busy: wait for one to finish, "
                    "or pass the session_id of one to reuse it"
                )
            oldest = min(idle, key=lambda s: s.last_used)
            log.info("closing session %s, idle longest, to stay within %d sessions", oldest.id, len(self.sessions))
            self.close(oldest.id)
        session = self._take_spare() if warm else None
        session = session or self._new_session()
        self._refill.set()
        self.sessions[session.id] = session
        return session

    def _take_spare(self) -> Session | None:
        while self.spares:
            spare = self.spares.pop(0)
            if spare.kernel is not None and spare.kernel.alive:
                return spare
            self._destroy(spare)
        return None

    def get(self, session_id: str | None, *, create: bool = True, warm: bool = False) -> Session:
        """The named session, or a new one when `session_id` is None and `create`."""
        if session_id is None:
            if not create:
                raise SessionError("give a session_id (list_sessions shows the open ones)")
            return self.create(warm=warm)
        session = self.sessions.get(session_id) if SESSION_ID.match(session_id) else None
        if session is None:
            raise SessionError(
                f"no open session {session_id!r}: it was closed, expired after "
                f"{self.settings.idle_timeout_s:g} s idle, or never existed; omit session_id to start a new one"
            )
        session.touch()
        return session

    async def start_kernel(self, session: Session) -> Kernel:
        kernel = Kernel(
            self.sandbox, workspace=session.workspace.root, sockets=session.sockets, host=session.host, wrap=session.wrap
        )
        await kernel.start()
        session.kernel = kernel
        return kernel

    async def kernel_for(self, session: Session) -> Kernel:
        """The session's running kernel, started if needed; refuses a dead session."""
        if session.dead:
            raise SessionError(
                f"session {session.id} is dead ({session.dead}); call reset_session to restart Python "
                "(files are kept) or omit session_id for a new session"
            )
        if session.kernel is None:
            return await self.start_kernel(session)
        return session.kernel

    def mark_dead(self, session: Session, reason: str) -> None:
        session.dead = reason
        if session.kernel is not None:
            session.kernel.kill()
            session.kernel = None

    # ending --------------------------------------------------------------------------------
    def reset(self, session: Session, *, clear_files: bool) -> None:
        """Kill the session's Python (all its processes); its next call starts a fresh one."""
        if session.kernel is not None:
            session.kernel.kill()
            session.kernel = None
        if self.cgroups:
            self.cgroups.remove(session.id)
        session.wrap = self._confine(session.id)
        session.dead = None
        if clear_files:
            try:
                remove_tree(session.workspace.root)
            except OSError as exc:
                raise SessionError(f"could not delete every file ({exc}); close_session and start a new session") from None
            session.workspace.root.mkdir()
            self.sandbox.own(session.workspace.root)
        session.touch()

    def close(self, session_id: str) -> None:
        self._destroy(self.get(session_id, create=False))
        del self.sessions[session_id]

    def _destroy(self, session: Session) -> None:
        if session.kernel is not None:
            session.kernel.kill()
            session.kernel = None
        session.dead = "closed"
        if self.cgroups:
            self.cgroups.remove(session.id)
        if session.quota:
            unmount_quota(session.disk)
        _remove(session.folder)


def _remove(folder: Path) -> None:
    """Delete `folder` however deep its tree; a failure is logged, not raised (nothing else can be done)."""
    try:
        remove_tree(folder)
    except OSError as exc:
        log.warning("could not delete %s: %s", folder, exc)

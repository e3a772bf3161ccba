"""How a session's processes are launched: inside bubblewrap with resource limits, or (unsafe) bare.

The sandbox sees: the system's /usr read-only, the Python environment read-only, a handful of
harmless /etc files, its own /proc, /dev and /tmp, the session workspace at /workspace and
the kernel's socket folder. Nothing the server itself writes (generated /etc files, the kernel's
connection file and log) lies in a folder the sandbox can write, so a planted symlink cannot redirect
the server's writes. No network, no host processes, none of the server's environment.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from memento_core.errors import ConfigError
from memento_core.units import mib
from memento_servers.code.errors import SandboxUnavailable

log = logging.getLogger(__name__)

WORKSPACE = "/workspace"
SANDBOX_UID = 1000
UNPRIVILEGED_UID = 100_000  # host uid of a root server's sandboxes when cgroups are unavailable
STAGE = Path("/mnt")  # covered by a tmpfs in a private mount namespace; the host's /mnt is untouched
ETC_FILES = (
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "fonts", "localtime",
    "mime.types", "nsswitch.conf", "hosts", "protocols", "services",
)  # fmt: skip
PASSWD = f"sandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:sandbox:{WORKSPACE}:/bin/sh\n"
GROUP = f"sandbox:x:{SANDBOX_UID}:\n"
INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0). "
    "Only for trusted code: restart the server with --unsafe-no-sandbox."
)


@dataclass(frozen=True)
class Limits:
    """Per-process rlimits applied inside the sandbox (cgroups, when usable, add per-session caps)."""

    memory_mb: int
    cpu_s: int
    max_processes: int
    max_file_mb: int
    tmp_mb: int  # size of the private /tmp (tmpfs, i.e. memory)

    def prlimit(self) -> list[str]:
        """A `prlimit` prefix setting these limits on the command it runs."""
        return [
            "/usr/bin/prlimit",
            f"--as={mib(self.memory_mb)}",
            f"--cpu={self.cpu_s}",
            f"--nproc={self.max_processes}",
            f"--fsize={mib(self.max_file_mb)}",
            "--core=0",
            "--nofile=1024",
            "--",
        ]


def python_prefixes(python: Path | None) -> tuple[Path, list[Path]]:
    """The interpreter to run and the folders it needs read-only (venv and base installation)."""
    if python is None:
        return Path(sys.executable), sorted({Path(sys.prefix), Path(sys.base_prefix)})
    probe = subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix); print(sys.base_prefix)"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        raise ConfigError(f"cannot run the configured python {python}: {probe.stderr.strip()[-300:]}")
    return python, sorted({Path(line) for line in probe.stdout.split()})


@dataclass
class Sandbox:
    """Builds the command line of any process a session runs."""

    python: Path
    python_dirs: list[Path]
    limits: Limits
    bwrap: str | None  # None: --unsafe-no-sandbox
    etc: Path = Path("/nonexistent")  # set by prepare()
    outer_uid: int | None = None  # set by run_as_unprivileged()

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    def workspace_inside(self, workspace: Path) -> str:
        return WORKSPACE if self.isolated else str(workspace)

    def environment(self, workspace: Path, extra: dict[str, str]) -> dict[str, str]:
        """The whole environment of a sandboxed process: nothing inherited from the server."""
        inside = self.workspace_inside(workspace)
        path = ":".join([str(self.python.parent), "/usr/local/bin", "/usr/bin", "/bin"])
        tmp = "/tmp" if self.isolated else str(workspace.parent / "tmp")
        return {
            "PATH": path, "HOME": inside, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb", "TMPDIR": tmp,
            "MPLCONFIGDIR": f"{tmp}/.matplotlib", "IPYTHONDIR": f"{tmp}/.ipython", "XDG_CACHE_HOME": f"{tmp}/.cache",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1", **extra,
        }  # fmt: skip

    def run_as_unprivileged(self) -> bool:
        """For a root server without cgroups: run sandboxes as an unprivileged host uid, because the kernel
        does not enforce RLIMIT_NPROC for root. Returns whether that is possible here."""
        if not self.isolated or os.geteuid() != 0:
            return False
        if not all(Path(tool).exists() for tool in ("/usr/bin/unshare", "/usr/bin/setpriv", str(STAGE))):
            return False
        self.outer_uid = UNPRIVILEGED_UID
        return True

    def prepare(self, folder: Path) -> None:
        """Write the generated /etc files into `folder`, a host-only folder the sandbox cannot write."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "passwd").write_text(PASSWD)
        (folder / "group").write_text(GROUP)
        self.etc = folder

    def command(
        self, argv: list[str], *, workspace: Path, env: dict[str, str], sockets: Path | None = None,
        files: dict[str, Path] | None = None,
    ) -> list[str]:  # fmt: skip
        """`argv` wrapped in bubblewrap (unless unsafe) and prlimit. `sockets` is bound read-write at the same
        path; `files` maps paths inside to host files bound read-only."""
        limited = [*self.limits.prlimit(), *argv] if Path("/usr/bin/prlimit").exists() else argv
        if not self.isolated:
            return ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *limited]
        return [*self._bwrap_prefix(workspace, env, sockets, files or {}), *limited]

    def _bwrap_prefix(
        self, workspace: Path, env: dict[str, str], sockets: Path | None, files: dict[str, Path]
    ) -> list[str]:
        args = [
            str(self.bwrap), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--ro-bind", "/usr", "/usr",
        ]  # fmt: skip
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            top = Path("/") / name
            if top.is_symlink():
                args += ["--symlink", os.readlink(top), str(top)]
            elif top.is_dir():
                args += ["--ro-bind", str(top), str(top)]
        for name in ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(mib(self.limits.tmp_mb)), "--tmpfs", "/tmp"]
        binds = [("--ro-bind", d, str(d)) for d in self.python_dirs]
        binds += [("--ro-bind", self.etc / "passwd", "/etc/passwd"), ("--ro-bind", self.etc / "group", "/etc/group")]
        binds += [("--ro-bind", host, inside) for inside, host in files.items()]
        if sockets is not None:
            binds.append(("--bind", sockets, str(sockets)))
        binds.append(("--bind", workspace, WORKSPACE))
        staged = [(option, STAGE / str(n) if self.outer_uid is not None else source, inside)
                  for n, (option, source, inside) in enumerate(binds)]  # fmt: skip
        for option, source, inside in staged:
            args += [option, str(source), inside]
        args += ["--remount-ro", "/", "--chdir", WORKSPACE, "--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        if self.outer_uid is None:
            return [*args, "--"]
        return [*self._unprivileged([source for _, source, _ in binds]), *args, "--"]

    def _unprivileged(self, sources: list[Path]) -> list[str]:
        """A prefix that runs bwrap as `outer_uid` (so RLIMIT_NPROC applies): in a private mount namespace,
        every bind source is first mounted under STAGE, where that uid can reach it."""
        steps = [f"mount -t tmpfs -o mode=0755 memento {STAGE}"]
        for n, source in enumerate(sources):
            point = STAGE / str(n)
            create = "mkdir" if source.is_dir() else "touch"
            steps.append(f"{create} {point} && mount --bind {shlex.quote(str(source))} {point}")
        uid = self.outer_uid
        steps.append(f'exec /usr/bin/setpriv --reuid={uid} --regid={uid} --clear-groups "$@"')
        script = " && ".join(steps)
        return ["/usr/bin/unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh"]

    def own(self, path: Path) -> None:
        """Give `path` to the sandbox's host uid, when it has its own."""
        if self.outer_uid is not None:
            os.chown(path, self.outer_uid, self.outer_uid, follow_symlinks=False)


def build_sandbox(*, unsafe: bool, bwrap: str, python: Path | None, limits: Limits) -> Sandbox:
    """The launcher for this server (whether bubblewrap works is checked on first use)."""
    interpreter, dirs = python_prefixes(python)
    if unsafe:
        log.warning("!!! --unsafe-no-sandbox: code runs WITHOUT isolation, with this server's file and network access !!!")
        return Sandbox(interpreter, dirs, limits, bwrap=None)
    return Sandbox(interpreter, dirs, limits, bwrap=shutil.which(bwrap) or bwrap)


def check_sandbox(sandbox: Sandbox, scratch: Path) -> None:
    """Start one trivial sandboxed process; raise `SandboxUnavailable` with bwrap's reason if it fails."""
    if not sandbox.isolated:
        return
    if shutil.which(str(sandbox.bwrap)) is None:
        raise SandboxUnavailable(f"bubblewrap ({sandbox.bwrap}) is not installed, so no code can run. {INSTALL_HINT}")
    scratch.mkdir(parents=True, exist_ok=True)
    argv = sandbox.command(["/bin/true"], workspace=scratch, env=sandbox.environment(scratch, {}))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        reason = result.stderr.strip()[-400:] or f"exit status {result.returncode}"
        raise SandboxUnavailable(f"the bubblewrap sandbox cannot start here ({reason}). {INSTALL_HINT}")

"""The system Chromium as a headless child process the crawler drives over CDP.

Chromium gets no network of its own: it starts with a proxy that points at a closed local
port (loopback included), so any request that escapes interception fails; `browser.py`
answers every request through the shared SSRF-safe fetcher. Nothing is ever downloaded.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

from memento_servers.crawl.errors import CrawlError

log = logging.getLogger(__name__)

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, every connection fails
FLAGS = (
    "--headless=new",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=DnsOverHttps,MediaRouter,OptimizationHints",
    "--dns-prefetch-disable",
    "--mute-audio",
    f"--proxy-server={DEAD_PROXY}",
    "--proxy-bypass-list=<-loopback>",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",  # WebRTC only through the dead proxy too
)


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM Chromium if the server process dies (even by SIGKILL)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class Chromium:
    """One headless Chromium process with a throw-away profile under `profiles`; `cdp_url` once started.

    Chromium and its helpers run in their own process group, stopped together. Profiles are named
    after the server's pid, so the ones a killed server left behind are removed at the next start.
    """

    def __init__(self, executable: Path, profiles: Path, start_timeout_s: float = 30.0):
        self.executable = executable
        self.profiles = profiles
        self.start_timeout_s = start_timeout_s
        self.process: subprocess.Popen | None = None
        self.profile: Path | None = None
        self.cdp_url: str | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self) -> str:
        if not os.access(self.executable, os.X_OK):
            raise CrawlError(
                f"Chromium was not found at {self.executable}; install it (apt install chromium) or set "
                "--chromium-path, or use render='http'"
            )
        self.profiles.mkdir(parents=True, exist_ok=True)
        remove_orphaned_profiles(self.profiles)
        self.profile = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.profiles))
        command = [str(self.executable), *FLAGS, f"--user-data-dir={self.profile}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
            log.warning("running Chromium as root without its sandbox; run memento-crawl as a normal user")
        command.append("about:blank")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self.cdp_url = await self._wait_for_endpoint()
        log.info("Chromium %s started (pid %d)", self.executable, self.process.pid)
        return self.cdp_url

    async def _wait_for_endpoint(self) -> str:
        """The CDP websocket URL Chromium writes into <profile>/DevToolsActivePort."""
        assert self.profile is not None and self.process is not None
        marker = self.profile / "DevToolsActivePort"
        with anyio.move_on_after(self.start_timeout_s):
            while self.process.poll() is None:
                try:
                    port, path = marker.read_text().split("\n")[:2]
                    if port and path:
                        return f"ws://127.0.0.1:{port.strip()}{path.strip()}"
                except (FileNotFoundError, ValueError):
                    pass
                await anyio.sleep(0.05)
        status = self.process.poll()
        self.stop()
        raise CrawlError(
            f"Chromium did not start ({'exit status ' + str(status) if status is not None else 'timed out'}); "
            "use render='http' or check --chromium-path"
        )

    def stop(self) -> None:
        """Stop Chromium and its helper processes, then delete the profile."""
        if self.process is not None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(self.process.pid, signal.SIGKILL)  # helpers that outlived the browser
            self.process.wait()
        self.process = None
        self.cdp_url = None
        if self.profile is not None:
            for _ in range(20):  # exiting helpers may still write for a moment
                shutil.rmtree(self.profile, ignore_errors=True)
                if not self.profile.exists():
                    break
                time.sleep(0.05)
            self.profile = None


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def remove_orphaned_profiles(profiles: Path) -> None:
    """Delete profiles whose server process (the pid in their name) no longer runs."""
    for profile in profiles.iterdir():
        owner = profile.name.split("-", 1)[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(profile, ignore_errors=True)
        except PermissionError:
            continue

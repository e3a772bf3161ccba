"""The escape suite: each attempt to leave the sandbox or exhaust the machine fails, and the server stays healthy."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from pathlib import Path

import anyio
import pytest

from tests.harness import connect, error_text, payload

pytestmark = [pytest.mark.anyio, pytest.mark.sandbox]

SECRETS = {"OPENAI_API_KEY": "sk-escape-test-secret", "MEMENTO_TOKEN": "token-escape-test-secret"}
PROJECT = Path(__file__).resolve().parents[2]


async def run(client, code: str, session_id: str | None = None, **extra) -> dict:
    args = {"code": code, **({"session_id": session_id} if session_id else {}), **extra}
    return payload(await client.call_tool("run_python", args))


async def value(client, code: str, session_id: str):
    result = await run(client, code, session_id)
    assert result["error"] is None, result["error"]
    return json.loads(result["stdout"])


class Listener:
    """A TCP server on 127.0.0.1 that records whether anything connected."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connected = False
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connected = True
            conn.close()

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


PROBE = """
import json, os, socket
def attempt(fn):
    try:
        return "ALLOWED: " + repr(fn())[:80]
    except Exception as exc:
        return "refused: " + type(exc).__name__
def connect(addr):
    with socket.create_connection(addr, timeout=2):
        return "connected"
def write(path):
    with open(path, "w") as f:
        return f.write("escape")
print(json.dumps({
    "read": {p: attempt(lambda p=p: open(p).read()) for p in READ},
    "write": {p: attempt(lambda p=p: write(p)) for p in WRITE},
    "net": {f"{h}:{p}": attempt(lambda a=(h, p): connect(a)) for h, p in NET},
    "home": sorted(os.listdir(HOME)) if os.path.isdir(HOME) else [],
    "env": dict(os.environ),
    "procs": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "host_proc": attempt(lambda: open(f"/proc/{HOST_PID}/environ", "rb").read()),
    "proc_environs": [
        open(f"/proc/{p}/environ", "rb").read().decode(errors="replace")
        for p in os.listdir("/proc") if p.isdigit() and os.access(f"/proc/{p}/environ", os.R_OK)
    ],
    "ptrace": __import__("ctypes").CDLL(None, use_errno=True).ptrace(16, HOST_PID, 0, 0),
    "session_folder": sorted(os.listdir(os.path.dirname(os.path.dirname(json.load(open(CONNECTION))["ip"])))),
}))
"""


async def test_escape_attempts_fail_and_the_server_stays_healthy(tmp_path, transport):
    host_secret = tmp_path / "host-secret.txt"
    host_secret.write_text("host secret")
    listener = Listener()
    home = Path.home()
    reads = ["/etc/shadow", str(host_secret), str(PROJECT / "README.md"), str(PROJECT / "servers/code/server.py")]
    reads.append("/proc/1/root/etc/shadow")
    writes = ["/run/memento/kernel.json", "/usr/escape", "/etc/escape", "/escape", f"{sys.prefix}/escape"]
    writes += [str(PROJECT / "escape"), str(tmp_path / "escape")]
    setup = (
        f"READ={reads!r}\nWRITE={writes!r}\nNET=[('127.0.0.1', {listener.port}), ('1.1.1.1', 53)]\n"
        f"HOME={str(home)!r}\nHOST_PID={os.getpid()}\nCONNECTION='/run/memento/kernel.json'\n"
    )
    try:
        with anyio.fail_after(90):
            async with connect("code", transport, env=SECRETS) as client:
                sid = (await run(client, "1"))["session_id"]
                seen = await value(client, setup + PROBE, sid)

                assert all(v.startswith("refused") for v in seen["read"].values()), seen["read"]
                # A checkout under /tmp (as in CI) lands such writes in the sandbox's private /tmp: they
                # must not be refused there, only never reach the host (checked below).
                outside_tmp = {p: v for p, v in seen["write"].items() if not Path(p).is_relative_to("/tmp")}
                assert all(v.startswith("refused") for v in outside_tmp.values()), seen["write"]
                assert all(v.startswith("refused") for v in seen["net"].values()), seen["net"]
                assert not listener.connected
                prefixes = map(Path, (sys.prefix, sys.base_prefix))
                needed = {p.relative_to(home).parts[0] for p in prefixes if p.is_relative_to(home)}
                assert set(seen["home"]) <= needed, f"the home folder shows {seen['home']}"
                dumped = json.dumps(seen["env"]) + " ".join(seen["proc_environs"])
                assert not any(secret in dumped for secret in SECRETS.values())
                assert "OPENAI_API_KEY" not in seen["env"] and seen["env"]["HOME"] == "/workspace"
                assert max(seen["procs"]) < 50, f"host processes visible: {seen['procs']}"
                assert seen["host_proc"].startswith("refused") and seen["ptrace"] == -1
                assert seen["session_folder"] == ["sockets"], "only the sockets of the session folder are visible"
                assert not (tmp_path / "escape").exists() and not (PROJECT / "escape").exists()

                await payload_shell(client, sid, "ln -s /etc/passwd pw && ln -s / root && ln -s /tmp tmplink && mkdir d")
                for path in ("pw", "root/etc/hostname", "tmplink/x", "../x", "/etc/passwd", "d/../../x"):
                    error_text(await client.call_tool("read_file", {"path": path, "session_id": sid}))
                for path in ("pw", "root/tmp/escape", "tmplink/escape", "../escape", "/tmp/escape"):
                    error_text(await client.call_tool("write_file", {"path": path, "content": "x", "session_id": sid}))
                assert Path("/etc/passwd").read_text() != "x" and not Path("/tmp/escape").exists()

                assert (await run(client, "2 + 2", sid))["value"] == "4"
    finally:
        listener.close()


async def payload_shell(client, sid: str, command: str) -> dict:
    result = payload(await client.call_tool("run_shell", {"command": command, "session_id": sid}))
    assert result["exit_code"] == 0, result
    return result


FORKS = """
import os, time
pids, error = [], None
try:
    for _ in range(5000):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        pids.append(pid)
except OSError as exc:
    error = type(exc).__name__
for pid in pids:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
print(len(pids), error)
"""

MEMORY = """
chunks = []
try:
    while True:
        chunks.append(bytearray(100_000_000))
except MemoryError:
    pass
print(len(chunks))
del chunks
"""

DISK = """
import time
for n in range(200):
    with open(f'fill{n}.bin', 'wb') as f:
        f.write(b'x' * 1_000_000)
    time.sleep(0.02)
"""


async def test_resource_bombs_are_contained_and_sessions_recover():
    limits = ["--max-processes", "32", "--memory-mb", "1500", "--workspace-mb", "20", "--max-file-mb", "5"]
    with anyio.fail_after(100):
        async with connect("code", args=limits) as client:
            sid = (await run(client, "import os, signal"))["session_id"]

            forked, error = (await run(client, FORKS, sid))["stdout"].split()
            caps = payload(await client.call_tool("list_sessions", {}))["session_caps"]
            assert int(forked) < 32 and error == "BlockingIOError", f"fork cap not enforced (caps: {caps})"
            bomb = "f(){ f|f& }; f; sleep 2; ps -e | wc -l"
            counted = payload(await client.call_tool("run_shell", {"command": bomb, "session_id": sid, "timeout_s": 3}))
            assert counted["stopped"] or int(counted["stdout"] or 0) <= 32
            alive = payload(await client.call_tool("run_shell", {"command": "echo alive", "session_id": sid}))
            assert alive["stdout"] == "alive\n"

            assert 0 < int((await run(client, MEMORY, sid))["stdout"]) < 15
            assert (await run(client, "import numpy as np\nnp.ones(10**10)", sid))["error"]["type"] == "MemoryError"

            too_big = await run(client, "open('big.bin', 'wb').write(b'x' * 6_000_000)", sid)
            assert too_big["error"]["type"] == "OSError" and "too large" in too_big["error"]["message"].lower()
            tmp_filler = "for n in range(8):\n    with open(f'/tmp/fill{n}', 'wb') as f:\n        f.write(b'x' * 4_000_000)"
            assert "No space left" in (await run(client, tmp_filler, sid))["error"]["message"]
            filled = await run(client, DISK, sid, timeout_s=30)
            shell_filler = "for n in $(seq 40); do head -c 1000000 /dev/zero > f$n || exit 1; sleep 0.02; done"
            shell_call = {"command": shell_filler, "session_id": sid, "timeout_s": 20}
            if payload(await client.call_tool("list_sessions", {}))["disk_quota"] == "enforced":
                assert "No space left" in filled["error"]["message"] and "--workspace-mb" in filled["quota"]
                shell = payload(await client.call_tool("run_shell", shell_call))
                assert shell["exit_code"] == 1 and "No space left" in shell["stderr"] and shell["quota"]
            else:
                assert filled["error"]["type"] == "LimitExceeded"
                refused = error_text(await client.call_tool("run_python", {"code": "1", "session_id": sid}))
                assert "over its" in refused and "reset_session" in refused
                shell = payload(await client.call_tool("run_shell", shell_call))
                assert "limit" in shell["stopped"]
            cleaned = payload(await client.call_tool("run_shell", {"command": "rm -f fill* f*", "session_id": sid}))
            assert cleaned["exit_code"] == 0 and cleaned["stopped"] is None
            assert (await run(client, "'writable again'", sid))["value"] == "'writable again'"
            payload(await client.call_tool("reset_session", {"session_id": sid, "clear_files": True}))

            kill_parent = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)\n'survived'"
            assert (await run(client, kill_parent, sid))["value"] == "'survived'"
            kill_all = "try:\n    os.kill(-1, signal.SIGKILL)\nexcept ProcessLookupError:\n    pass\nos.kill(os.getpid(), signal.SIGKILL)"
            suicide = await run(client, kill_all, sid)
            assert suicide["session_state"] == "dead" and suicide["error"]["type"] == "SessionDied"
            payload(await client.call_tool("reset_session", {"session_id": sid}))
            assert (await run(client, "6 * 7", sid))["value"] == "42"
            assert payload(await client.call_tool("list_sessions", {}))["sessions"][0]["state"] == "idle"


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-uid mode exists for root servers only")
async def test_root_server_without_cgroups_runs_sandboxes_as_an_unprivileged_uid(tmp_path):
    args = ["--no-cgroups", "--max-processes", "32", "--warm-kernels", "0"]
    with anyio.fail_after(60):
        async with connect("code", args=args, env=SECRETS) as client:
            sid = payload(await client.call_tool("write_file", {"path": "d/notes.txt", "content": "from host"}))["session_id"]
            assert payload(await client.call_tool("list_sessions", {}))["session_caps"] == "unprivileged_uid"
            edited = await run(client, "open('d/notes.txt', 'a').write(', edited')\nopen('d/notes.txt').read()", sid)
            assert edited["value"] == "'from host, edited'", "files written by the server stay writable inside"

            forked, error = (await run(client, FORKS, sid))["stdout"].split()
            assert int(forked) < 32 and error == "BlockingIOError"
            setup = f"READ=['/etc/shadow', {str(PROJECT / 'README.md')!r}]\nWRITE=['/usr/x', {str(tmp_path / 'x')!r}]\n"
            setup += f"NET=[]\nHOME={str(Path.home())!r}\nHOST_PID={os.getpid()}\nCONNECTION='/run/memento/kernel.json'\n"
            seen = await value(client, setup + PROBE, sid)
            assert all(v.startswith("refused") for v in [*seen["read"].values(), *seen["write"].values()])
            assert not any(secret in json.dumps(seen["env"]) for secret in SECRETS.values())
            shell = payload(await client.call_tool("run_shell", {"command": "touch made && id -u", "session_id": sid}))
            assert shell["stdout"] == "1000\n" and shell["files_created"] == ["made"]

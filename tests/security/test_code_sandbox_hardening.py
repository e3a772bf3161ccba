"""Attacks on the code server's disk quota, cleanup and timeouts, over real MCP (issue 13)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import anyio
import psutil
import pytest

from tests.harness import connect, payload

pytestmark = [pytest.mark.anyio, pytest.mark.sandbox]

MIB = 1024 * 1024


@pytest.fixture
def root():
    """A short host folder for the session folders (kernel socket paths must fit in 107 characters)."""
    folder = Path(tempfile.mkdtemp(prefix="h13-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def call(client, tool: str, **args) -> dict:
    return payload(await client.call_tool(tool, args))


def host_bytes(folder: Path) -> int:
    """Bytes on disk under `folder` as the host sees them (du copes with any depth)."""
    out = subprocess.run(["du", "-s", "-B1", str(folder)], capture_output=True, text=True, check=False).stdout
    return int(out.split()[0]) if out else 0


def session_folder(root: Path, sid: str) -> Path:
    return next(root.glob(f"memento-code-*/{sid}"))


def code_server() -> psutil.Process:
    """The code server this test started (a child of the test process)."""
    found = [child for child in psutil.Process(os.getpid()).children() if "memento-code" in " ".join(child.cmdline())]
    assert len(found) == 1, found
    return found[0]


def as_server_sees(path: Path) -> Path:
    """`path` in the code server's mount namespace, where its quota tmpfs are mounted."""
    return Path(f"/proc/{code_server().pid}/root") / path.relative_to("/")


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line holds `marker`."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in Path(f"/proc/{name}/cmdline").read_bytes():
                found.append(int(name))
        except OSError:
            continue
    return found


async def test_writes_past_the_workspace_quota_fail_and_say_how_to_make_room(root):
    args = ["--workspace-mb", "20", "--max-file-mb", "5", "--warm-kernels", "0", "--workspace-root", str(root)]
    with anyio.fail_after(120):
        async with connect("code", args=args) as client:
            first = await call(client, "run_shell", command="true")
            sid = first["session_id"]
            if (await call(client, "list_sessions"))["disk_quota"] != "enforced":
                pytest.skip("this server may not mount a tmpfs (needs root or CAP_SYS_ADMIN): the quota is polled")
            fill = "for n in $(seq 10); do head -c 4000000 /dev/zero > w$$-$n || exit 9; done"
            results = [await call(client, "run_shell", command=fill, session_id=sid) for _ in range(8)]
            assert results[-1]["exit_code"] == 9 and "No space left" in results[-1]["stderr"]
            assert "--workspace-mb" in results[-1]["quota"] and "rm -rf" in results[-1]["quota"]
            folder = as_server_sees(session_folder(root, sid))
            assert 19 * MIB <= host_bytes(folder) <= 21 * MIB, "the workspace grew past its 20 MiB quota"

            tmp_fill = "for n in $(seq 10); do head -c 4000000 /dev/zero > /tmp/t$n || exit 9; done; du -sm /tmp"
            tmp = await call(client, "run_shell", command=tmp_fill, session_id=sid)
            assert tmp["exit_code"] == 9 and "No space left" in tmp["stderr"] and tmp["quota"]

            flood = "import os\nfor _ in range(400):\n    os.write(1, b'x' * 100_000)\n'flooded'"
            flooded = await call(client, "run_python", code=flood, session_id=sid)
            assert flooded["value"] == "'flooded'"
            assert host_bytes(as_server_sees(root)) <= 22 * MIB, "40 MB printed at the fd level reached the host's disk"

            cleared = await call(client, "run_shell", command="rm -f w*", session_id=sid)
            assert cleared["exit_code"] == 0 and cleared["quota"] is None
            written = await call(client, "write_file", path="ok.txt", content="room again", session_id=sid)
            assert written["size"] == 10


DEEP = "python -c \"import os\nfor _ in range(80): os.mkdir('d' * 200); os.chdir('d' * 200)\nopen('f', 'w').write('deep')\""


async def test_a_tree_deeper_than_path_max_neither_bricks_the_session_nor_survives_it(root):
    args = ["--warm-kernels", "0", "--workspace-root", str(root)]
    with anyio.fail_after(120):
        async with connect("code", args=args) as client:
            made = await call(client, "run_shell", command=DEEP)
            sid = made["session_id"]
            assert made["exit_code"] == 0, made["stderr"]  # 80 levels of 201 characters: past PATH_MAX (4096)

            started = time.monotonic()
            slow = await call(client, "run_shell", command="sleep 30", session_id=sid, timeout_s=5)
            assert "timed out" in slow["stopped"] and time.monotonic() - started < 12
            listing = await call(client, "list_files", session_id=sid)
            assert "deeper than" in listing["note"] and listing["entries"][0]["path"] == "d" * 200
            assert (await call(client, "run_python", code="6 * 7", session_id=sid))["value"] == "42"

            await call(client, "reset_session", session_id=sid, clear_files=True)
            assert (await call(client, "list_files", session_id=sid))["entries"] == []

            again = await call(client, "run_shell", command=DEEP + " && chmod 0 d*", session_id=sid)
            assert again["exit_code"] == 0
            folder = session_folder(root, sid)
            assert (await call(client, "close_session", session_id=sid))["state"] == "closed"
            assert not folder.exists()
            kept = (await call(client, "run_shell", command=DEEP))["session_id"]
            folder = session_folder(root, kept)
        assert not folder.exists() and not list(root.iterdir()), "the server left files behind at shutdown"


WRITER = "while true; do echo x >> {file}; sleep 0.05; done # {marker}"


async def growth(client, sid: str, path: str) -> int:
    """How much `path` grows in the next 1.5 s."""
    size = (await call(client, "read_file", path=path, session_id=sid, max_chars=1))["size"]
    await anyio.sleep(1.5)
    return (await call(client, "read_file", path=path, session_id=sid, max_chars=1))["size"] - size


async def test_timeouts_leave_no_process_of_the_call_running(root):
    marker = f"memento-h13-{os.getpid()}"
    args = ["--warm-kernels", "0", "--workspace-root", str(root)]
    with anyio.fail_after(120):
        async with connect("code", args=args) as client:
            detached = f"setsid sh -c '{WRITER.format(file='shell.txt', marker=marker)}' & sleep 60"
            shell = await call(client, "run_shell", command=detached, timeout_s=2)
            sid = shell["session_id"]
            assert "timed out" in shell["stopped"]
            assert await growth(client, sid, "shell.txt") == 0 and processes_with(marker) == []

            spawn = (
                "import subprocess, time\nkept = 'still here'\n"
                f"subprocess.Popen(['sh', '-c', {WRITER.format(file='py.txt', marker=marker)!r}], start_new_session=True)\n"
                "time.sleep(60)"
            )
            timed_out = await call(client, "run_python", code=spawn, session_id=sid, timeout_s=2)
            assert timed_out["error"]["type"] == "Timeout" and timed_out["session_state"] == "idle"
            assert await growth(client, sid, "py.txt") == 0 and processes_with(marker) == []
            assert (await call(client, "run_python", code="kept", session_id=sid))["value"] == "'still here'"


THREADS = """
import threading, time
def write():
    while True:
        with open('threads.txt', 'a') as out:
            out.write('x')
        time.sleep(0.05)
for _ in range(3):
    threading.Thread(target=write, daemon=True).start()
while True:
    time.sleep(0.1)
"""


async def test_a_timed_out_call_leaves_none_of_its_threads_writing(root):
    args = ["--warm-kernels", "0", "--workspace-root", str(root)]
    with anyio.fail_after(120):
        async with connect("code", args=args) as client:
            before = await call(client, "run_python", code="import threading; kept = 1; threading.active_count()")
            sid = before["session_id"]
            timed_out = await call(client, "run_python", code=THREADS, session_id=sid, timeout_s=2)
            # an interrupt reaches only the main thread: the kernel with the call's threads is killed instead
            assert timed_out["error"]["type"] == "SessionDied" and "threads it started" in timed_out["error"]["message"]
            assert await growth(client, sid, "threads.txt") == 0
            await call(client, "reset_session", session_id=sid)
            assert (await call(client, "run_python", code="1 + 1", session_id=sid))["value"] == "2"
            assert await growth(client, sid, "threads.txt") == 0


def mount_namespaces() -> dict[str, list[int]]:
    """Mount namespace -> pids of the processes in it, as far as this process may see."""
    found: dict[str, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            found.setdefault(os.readlink(f"/proc/{name}/ns/mnt"), []).append(int(name))
        except OSError:
            continue
    return found


async def test_a_sigkilled_server_leaves_no_mount_and_its_folder_goes_at_the_next_start(root):
    args = ["--warm-kernels", "0", "--workspace-root", str(root)]
    with anyio.fail_after(120):
        async with connect("code", args=args) as client:
            sid = (await call(client, "run_python", code="open('f.txt', 'w').write('x' * 1000)"))["session_id"]
            enforced = (await call(client, "list_sessions"))["disk_quota"] == "enforced"
            server = code_server()
            folder = session_folder(root, sid)
            if enforced:  # the quota tmpfs exists in the server's namespace only, never in the host's
                assert str(folder) in Path(f"/proc/{server.pid}/mountinfo").read_text()
                assert str(root) not in Path("/proc/self/mountinfo").read_text()
            namespace = os.readlink(f"/proc/{server.pid}/ns/mnt")
            server.kill()
            server.wait(10)
            deadline = time.monotonic() + 10  # the sandbox dies with its parent; then the namespace goes
            while namespace in mount_namespaces() and time.monotonic() < deadline:
                await anyio.sleep(0.1)
            assert namespace not in mount_namespaces(), "processes of the killed server keep its mounts alive"
            assert str(root) not in Path("/proc/self/mountinfo").read_text()
            with pytest.raises(Exception):  # the client sees its server gone
                await call(client, "list_sessions")
        assert folder.exists()  # nothing ran at its death; the next server cleans up
        async with connect("code", args=args) as client:
            await call(client, "list_sessions")
            assert not folder.parent.exists(), "the next server start left the dead server's folder"
            assert len(list(root.iterdir())) == 1  # its own

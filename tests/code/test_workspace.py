"""The confined file operations and the pure helpers, without a server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memento_servers.code.errors import WorkspaceError
from memento_servers.code.outputs import Capped, trim_traceback, truncate
from memento_servers.code.sandbox import Limits, Sandbox, build_sandbox
from memento_servers.code.workspace import Workspace, changed_files, split


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace(root, max_bytes=10_000, max_file_bytes=6000)


def test_split_accepts_relative_and_sandbox_absolute_paths():
    assert split("a/b.txt") == ["a", "b.txt"]
    assert split("/workspace/a/./b.txt") == ["a", "b.txt"]
    assert split(".") == []


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/passwd", "/workspace/../etc", "a\x00b"])
def test_split_refuses_paths_that_leave_the_workspace(path):
    with pytest.raises(WorkspaceError):
        split(path)


def test_write_then_read_round_trips_and_creates_folders(workspace):
    assert workspace.write("d/e/f.txt", b"hello", append=False) == 5
    assert workspace.write("d/e/f.txt", b"!", append=True) == 6
    assert workspace.read("d/e/f.txt", offset=0, limit=100) == (b"hello!", 6)
    assert workspace.read("d/e/f.txt", offset=2, limit=2) == (b"ll", 6)
    assert [e.path for e in workspace.entries()[0]] == ["d", "d/e", "d/e/f.txt"]


def test_symlinks_are_never_followed(workspace, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    os.symlink(secret, workspace.root / "link")
    os.symlink(tmp_path, workspace.root / "dirlink")
    for path in ("link", "dirlink/secret.txt"):
        with pytest.raises(WorkspaceError, match="symlink"):
            workspace.read(path, offset=0, limit=100)
    with pytest.raises(WorkspaceError, match="symlink"):
        workspace.write("link", b"overwrite", append=False)
    with pytest.raises(WorkspaceError, match="symlink"):
        workspace.write("dirlink/new.txt", b"x", append=False)
    assert secret.read_text() == "host secret"
    assert not (tmp_path / "new.txt").exists()
    assert {e.kind for e in workspace.entries()[0]} == {"symlink"}


def test_size_limits_refuse_big_files_and_overfilling(workspace):
    with pytest.raises(WorkspaceError, match="file limit"):
        workspace.write("big", b"x" * 6001, append=False)
    workspace.write("a", b"x" * 6000, append=False)
    with pytest.raises(WorkspaceError, match="workspace would exceed"):
        workspace.write("b", b"x" * 5000, append=False)


def test_changed_files_lists_new_and_modified_files_only():
    before = {"same": (1, 1), "edited": (1, 1)}
    after = {"same": (1, 1), "edited": (2, 5), "new": (3, 3)}
    assert changed_files(before, after) == ["edited", "new"]


def test_truncate_marks_what_it_cut():
    assert truncate("abc", 5) == "abc"
    cut = truncate("x" * 50, 10)
    assert cut.startswith("x" * 10) and "truncated 40 characters" in cut


def test_capped_stream_keeps_the_head_and_counts_the_rest():
    stream = Capped(10)
    for _ in range(1000):
        stream.append("abcdef")
    assert stream.render().startswith("abcdefabcd\n...[truncated 5990 characters")
    assert sum(map(len, stream.parts)) == 10


def test_traceback_keeps_user_cells_and_the_exception_line():
    frames = [
        "-" * 20,
        "ValueError        Traceback (most recent call last)",
        "Cell In[2], line 1\n----> 1 f()",
        "File /usr/lib/python3/site-packages/lib.py:10, in g()\n---> 10 raise ValueError",
        "ValueError: bad",
    ]
    assert trim_traceback(frames) == "Cell In[2], line 1\n----> 1 f()\nValueError: bad"


def test_sandbox_environment_carries_nothing_from_the_server(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    sandbox = Sandbox(Path("/venv/bin/python"), [Path("/venv")], Limits(512, 10, 16, 5, 50), bwrap="/usr/bin/bwrap")
    sandbox.prepare(tmp_path / "etc")
    env = sandbox.environment(tmp_path / "ws", {})
    argv = sandbox.command(["python"], workspace=tmp_path / "ws", env=env, sockets=tmp_path / "sockets")
    assert "OPENAI_API_KEY" not in env and "sk-secret" not in " ".join(argv)
    assert env["HOME"] == "/workspace"
    for flag in ("--unshare-all", "--clearenv", "--die-with-parent", "--disable-userns"):
        assert flag in argv
    binds = [argv[i + 1] for i, arg in enumerate(argv) if arg in ("--bind", "--ro-bind")]
    assert "/venv" in binds and not any(b in ("/", "/root", "/home", str(Path.home())) for b in binds)
    writable = {argv[i + 1] for i, arg in enumerate(argv) if arg == "--bind"}
    assert writable == {str(tmp_path / "ws"), str(tmp_path / "sockets")}, "only the workspace and sockets are writable"
    assert argv[argv.index("--") + 1 :][:1] == ["/usr/bin/prlimit"]


def test_unsafe_mode_is_logged_loudly_and_skips_bubblewrap(caplog, tmp_path):
    sandbox = build_sandbox(unsafe=True, bwrap="bwrap", python=None, limits=Limits(512, 10, 16, 5, 50))
    assert not sandbox.isolated and "WITHOUT isolation" in caplog.text
    argv = sandbox.command(["python"], workspace=tmp_path, env={"HOME": str(tmp_path)})
    assert "bwrap" not in " ".join(argv) and argv[:2] == ["/usr/bin/env", "-i"]

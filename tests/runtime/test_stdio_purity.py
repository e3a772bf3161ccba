"""On stdio, stdout carries protocol messages only; logs go to stderr; signals and EOF stop the server."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest

from tests.harness import SERVERS, script

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}


def _start(server: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [script(server), "--log-level", "DEBUG", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("server", SERVERS)
def test_stdout_holds_only_jsonrpc_and_eof_stops_server(server):
    process = _start(server)
    messages = [
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "server_info", "arguments": {}}},
    ]
    out, err = process.communicate("".join(json.dumps(m) + "\n" for m in messages).encode(), timeout=60)
    assert process.returncode == 0
    lines = [line for line in out.decode().splitlines() if line.strip()]
    replies = [json.loads(line) for line in lines]  # every stdout line is JSON
    assert all(reply.get("jsonrpc") == "2.0" for reply in replies)
    assert {reply.get("id") for reply in replies} >= {1, 2, 3}
    assert err, "DEBUG logging should have written to stderr"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_stdio_server_promptly(signum):
    process = _start("documents")
    process.stdin.write((json.dumps(INIT) + "\n").encode())
    process.stdin.flush()
    assert json.loads(process.stdout.readline())["id"] == 1  # serving, so the signal handlers are installed
    process.send_signal(signum)
    assert process.wait(timeout=10) == 0
    assert b"shutting down" in process.stderr.read()


def test_stdio_redirected_from_and_to_files_is_served(tmp_path):
    """`server < requests.jsonl > replies.jsonl` (and `< /dev/null`): files cannot be polled, yet they are served."""
    requests, replies = tmp_path / "requests.jsonl", tmp_path / "replies.jsonl"
    requests.write_text(json.dumps(INIT) + "\n" + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}) + "\n")
    with requests.open("rb") as stdin, replies.open("wb") as stdout:
        done = subprocess.run([script("memory"), "--db", str(tmp_path / "bank")], stdin=stdin, stdout=stdout,
                              stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    assert [json.loads(line)["id"] for line in replies.read_text().splitlines()] == [1, 2]
    empty = subprocess.run([script("memory"), "--db", str(tmp_path / "bank")], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
    assert empty.returncode == 0 and empty.stdout == b"" and b"Traceback" not in empty.stderr

"""Malformed and oversized stdio traffic against a real memory server: each attack gets a prompt
JSON-RPC error and the same process then answers a normal request (issue 13)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time

import pytest

from memento_servers.runtime.stdio import MAX_DEPTH, MAX_MESSAGE_BYTES

INIT = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "attacker", "version": "0"}},
}


class Server:
    """`python -m memento_memory` over stdio, read line by line with timeouts."""

    def __init__(self, db, *flags: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "memento_memory", "--db", str(db), "--model", "feature-hash", *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.send(INIT)
        assert self.reply(timeout=60)["id"] == 0
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)

    def send(self, message: dict | bytes) -> None:
        self.process.stdin.write(message if isinstance(message, bytes) else json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def reply(self, timeout: float = 30) -> dict:
        try:
            return json.loads(self.lines.get(timeout=timeout))
        except queue.Empty:
            raise AssertionError(f"no reply within {timeout}s (server exit status: {self.process.poll()})") from None

    def assert_serving(self) -> None:
        self.send({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "memory_stats", "arguments": {}}})
        reply = self.reply()
        assert reply["id"] == 99 and "error" not in reply
        assert json.loads(reply["result"]["content"][0]["text"])["cases"] == 0

    def close(self) -> None:
        self.process.stdin.close()
        try:
            assert self.process.wait(timeout=30) == 0
        finally:
            self.process.kill()


@pytest.fixture
def server(tmp_path):
    server = Server(tmp_path / "bank")
    yield server
    server.close()


def call(request_id: int, tool: str, arguments_json: str) -> bytes:
    """A tools/call line with its arguments spliced in as raw JSON text."""
    head = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": tool}})
    return f'{head[:-2]}, "arguments": {arguments_json}}}}}\n'.encode()


def test_deeply_nested_plan_is_refused_and_server_keeps_serving(server):
    plan = "[" * 1500 + "]" * 1500  # 3 KB: once a RecursionError that ended the process
    server.send(call(2, "write_case", f'{{"task": "t", "reward": 1, "plan": {plan}}}'))
    reply = server.reply(timeout=10)
    assert reply["error"]["code"] == -32600 and reply["id"] == 2  # too deep to parse, its id found by a scan
    assert f"nested deeper than {MAX_DEPTH} levels" in reply["error"]["message"]
    server.assert_serving()


def test_nesting_just_past_the_limit_is_refused_for_its_id(server):
    plan = "[" * MAX_DEPTH + "]" * MAX_DEPTH  # the envelope adds three levels around it
    server.send(call(3, "write_case", f'{{"task": "t", "reward": 1, "plan": {plan}}}'))
    reply = server.reply(timeout=10)
    assert reply["id"] == 3 and f"nested deeper than {MAX_DEPTH} levels" in reply["error"]["message"]
    server.assert_serving()


def test_lone_surrogate_in_task_is_refused_promptly(server):
    line = call(4, "retrieve_cases", r'{"task": "a\ud800b"}')  # once hung until the client gave up
    server.send(line)
    reply = server.reply(timeout=10)
    assert reply["id"] == 4 and reply["error"]["code"] == -32600
    at = line.decode().index("\\ud800")
    assert reply["error"]["message"] == f"invalid Unicode: lone surrogate \\ud800 at character {at}"
    server.assert_serving()


def test_surrogate_pair_escapes_are_accepted(server):
    server.send(call(5, "retrieve_cases", r'{"task": "smile \ud83d\ude00 \\ud800"}'))  # a pair, then plain text
    reply = server.reply(timeout=30)
    assert reply["id"] == 5 and "error" not in reply and not reply["result"].get("isError")


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        (b"{not json\n", -32700, None),
        (b'{"jsonrpc": "2.0", "id": 6, "method": "ping", "params": {"x": NaN}}\n', -32700, None),
        (b'{"jsonrpc": "2.0", "id": 7, "method": 42}\n', -32600, 7),
    ],
)
def test_unparseable_lines_get_an_error_reply(server, line, code, request_id):
    server.send(line)
    reply = server.reply(timeout=10)
    assert reply["error"]["code"] == code and reply["id"] == request_id
    server.assert_serving()


def test_blank_lines_are_skipped_silently(server):
    server.send(b"\n  \r\n")
    server.assert_serving()  # the next reply is memory_stats', not an error for the blank lines


def ping(request_id: int, size: int) -> bytes:
    """A ping request `size` bytes long (padded in its params)."""
    head = f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "ping", "params": {{"pad": "'.encode()
    return head + b"a" * (size - len(head) - 4) + b'"}}\n'


def timed_ping(server: Server, request_id: int, size: int) -> tuple[dict, float]:
    start = time.monotonic()
    server.send(ping(request_id, size))
    reply = server.reply(timeout=60)
    return reply, time.monotonic() - start


def test_large_messages_are_framed_in_linear_time(server):
    small, large = MAX_MESSAGE_BYTES // 16, MAX_MESSAGE_BYTES  # 1 MiB and 16 MiB, both accepted
    timed_ping(server, 8, small)  # warm up
    _, small_s = zip(*(timed_ping(server, 9, small) for _ in range(3)))
    reply, large_s = timed_ping(server, 10, large)
    assert reply == {"jsonrpc": "2.0", "id": 10, "result": {}}
    # 16 times the bytes: a quadratic framing took 12 s for 16 MiB; generous for a noisy machine
    assert large_s < 16 * 4 * min(small_s) + 2.0, (large_s, small_s)
    server.assert_serving()


def test_40_mb_message_is_refused_promptly_and_the_next_line_is_served(server):
    reply, seconds = timed_ping(server, 11, 40_000_000)  # once 19 s of buffering before any answer
    assert reply["error"] == {"code": -32600, "message": f"message longer than {MAX_MESSAGE_BYTES} bytes"}
    assert reply["id"] == 11  # the caller waiting for request 11 gets its answer (it was null)
    assert seconds < 4, seconds  # about 0.1 s here
    server.send(ping(12, 100))  # framing resumed at the newline after the refused line
    assert server.reply(timeout=10) == {"jsonrpc": "2.0", "id": 12, "result": {}}
    server.assert_serving()


@pytest.mark.parametrize(
    ("head", "request_id"),
    [
        ('{"jsonrpc": "2.0", "method": "ping", "id": "ask-7", "params": {"pad": "', "ask-7"),  # id after the method
        ('{"method": "ping", "params": {"id": 3, "note": "\\"id\\": 4"}, "id" : 13, "x": "', 13),  # only the top-level id
        ('{"jsonrpc": "2.0", "method": "ping", "params": {"pad": "', None),  # the id (if any) lies past the scan
        ('[{"jsonrpc": "2.0", "id": 14, "method": "ping", "params": {"pad": "', None),  # a batch has no one id
    ],
)
def test_an_oversized_line_is_refused_for_the_id_it_starts_with(server, head, request_id):
    server.send(head.encode() + b"a" * (MAX_MESSAGE_BYTES + 10) + b'"}, "id": 15}\n')
    reply = server.reply(timeout=30)
    assert reply["id"] == request_id and reply["error"]["message"] == f"message longer than {MAX_MESSAGE_BYTES} bytes"
    server.assert_serving()


def test_a_line_too_deep_to_parse_is_refused_for_its_id_wherever_it_is_among_the_first_keys(server):
    deep = "[" * 5000 + "]" * 5000
    server.send(f'{{"jsonrpc": "2.0", "method": "tools/call", "params": {{"name": "write_case", "arguments": {{"plan": {deep}}}}}, '
                f'"id": "late"}}\n'.encode())
    assert server.reply(timeout=10)["id"] == "late"
    server.send(f'{{"jsonrpc": "2.0", "method": "ping", "params": {{"pad": "{"b" * 70_000}", "x": {deep}}}, "id": 16}}\n'.encode())
    assert server.reply(timeout=10)["id"] is None  # beyond the bounded scan: it cannot be known
    server.assert_serving()


def test_the_limits_are_settings(tmp_path):
    server = Server(tmp_path / "bank", "--max-json-depth", "12", "--max-message-mb", "0.01")
    try:
        server.send(call(5, "write_case", '{"task": "t", "reward": 1, "plan": ' + "[" * 10 + "]" * 10 + "}"))
        assert "nested deeper than 12 levels" in server.reply()["error"]["message"]
        server.send(call(6, "retrieve_cases", json.dumps({"task": "x" * 20_000})))
        assert server.reply()["error"]["message"] == f"message longer than {int(0.01 * 2**20)} bytes"
        server.assert_serving()
    finally:
        server.close()

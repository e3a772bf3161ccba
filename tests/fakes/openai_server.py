"""A fake OpenAI-compatible HTTP server for tests: real HTTP on 127.0.0.1, scripted replies, recorded requests.

    from tests.fakes.openai_server import fake_openai  # in a conftest.py: makes the fixture available

    def test_x(fake_openai):
        fake_openai.enqueue(tool_call_reply(("search__search", {"query": "x"})), text_reply("done"))
        client = AsyncOpenAI(base_url=fake_openai.url, api_key="test")
        ...
        assert fake_openai.requests[0].body["model"] == "m"

Replies come from a queue (`enqueue`) or from a function of the request (`responder`); the
queue wins while it is not empty. `POST /v1/chat/completions` answers as JSON or, when the
request says `"stream": true`, as server-sent events chunked the way OpenAI sends them, ending
with `data: [DONE]`. `error_reply(429, retry_after=1)` scripts a failure. `GET /v1/models`
lists `models`. A message's content may be a list of parts (`text`, `image_url`): `text()` reads the
text parts and `image_urls()` lists the images a request carried. With nothing scripted, the server answers 500 with a message saying so, so a
test that under-scripts fails loudly instead of hanging.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

__all__ = [
    "FakeOpenAI",
    "content_text",
    "Reply",
    "RecordedRequest",
    "error_reply",
    "fake_openai",
    "text_reply",
    "tool_call_reply",
]


@dataclass
class Reply:
    """One scripted answer: an assistant message, or an HTTP error when `status` is not 200."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    delay: float = 0.0  # seconds to wait before answering (to test timeouts)


def text_reply(content: str, **kwargs: Any) -> Reply:
    """An assistant message with text content."""
    return Reply(content=content, **kwargs)


def tool_call_reply(*calls: tuple[str, dict[str, Any] | str], content: str | None = None, **kwargs: Any) -> Reply:
    """An assistant message calling tools: each call is (name, arguments dict or raw JSON string)."""
    return Reply(content=content, tool_calls=list(calls), **kwargs)


def error_reply(status: int, message: str = "scripted error", *, retry_after: float | None = None) -> Reply:
    """An HTTP error with OpenAI's error body; `retry_after` sets the Retry-After header (seconds)."""
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_exceeded"}
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    error = {"message": message, "type": kinds.get(status, "server_error"), "param": None, "code": None}
    return Reply(status=status, error=error, headers=headers)


def content_text(content: Any) -> str:
    """A message's text: its content string, or the text of its content parts (images left out)."""
    if isinstance(content, list):
        return "\n".join(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


@dataclass
class RecordedRequest:
    """A request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return (self.body or {}).get("messages", [])

    def text(self) -> str:
        """Every message content of the request, joined: for asserting what a prompt contained."""
        return "\n".join(content_text(m.get("content")) for m in self.messages)

    def image_urls(self) -> list[str]:
        """The URLs (data URIs) of every `image_url` part in the request's messages, in order."""
        parts = [p for m in self.messages if isinstance(m.get("content"), list) for p in m["content"] if isinstance(p, dict)]
        return [str((p.get("image_url") or {}).get("url")) for p in parts if p.get("type") == "image_url"]


def _usage(body: dict[str, Any], reply: Reply) -> dict[str, int]:
    if reply.usage is not None:
        return reply.usage
    prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4 + 1
    completion = len(reply.content or "") // 4 + 1 + sum(len(json.dumps(c)) // 4 for c in reply.tool_calls)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _tool_call_dicts(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_{uuid.uuid4().hex[:24]}",
            "type": "function",
            "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
        }
        for name, args in reply.tool_calls
    ]


def _finish_reason(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def completion_body(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """The JSON of a non-streaming chat completion."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = _tool_call_dicts(reply)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(reply)}],
        "usage": _usage(body, reply),
    }


def stream_chunks(body: dict[str, Any], reply: Reply) -> Iterator[dict[str, Any]]:
    """The chunks of a streamed chat completion, shaped like OpenAI's."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    yield chunk({"role": "assistant", "content": "" if reply.content is not None or not reply.tool_calls else None})
    text = reply.content or ""
    for start in range(0, len(text), 8):
        yield chunk({"content": text[start : start + 8]})
    for index, call in enumerate(_tool_call_dicts(reply)):
        head = {"index": index, "id": call["id"], "type": "function", "function": {"name": call["function"]["name"], "arguments": ""}}
        yield chunk({"tool_calls": [head]})
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), 10):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[start : start + 10]}}]})
    yield chunk({}, _finish_reason(reply))
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**base, "choices": [], "usage": _usage(body, reply)}


class FakeOpenAI:
    """The scripted state behind the HTTP server: a reply queue, an optional responder, the request log."""

    def __init__(self, models: tuple[str, ...] = ("fake-model",)):
        self.models = models
        self.requests: list[RecordedRequest] = []
        self.responder: Callable[[RecordedRequest], Reply] | None = None
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self.url = ""  # set once serving: http://127.0.0.1:PORT/v1

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """Replies scripted but not yet served."""
        return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        if self.responder is not None:
            return self.responder(request)
        return error_reply(500, "fake OpenAI server: no scripted reply left for this request")


def _headers(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    """Request headers with lower-case names, as HTTP/2 and httpx show them."""
    return {k.lower(): v for k, v in handler.headers.items()}


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            fake.requests.append(RecordedRequest("GET", self.path, _headers(self), None))
            if self.path.rstrip("/").endswith("/models"):
                data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]
                self._send_json(200, {"object": "list", "data": data})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._send_json(400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}})
                return
            request = RecordedRequest("POST", self.path, _headers(self), body)
            if not self.path.rstrip("/").endswith("/chat/completions"):
                fake.requests.append(request)
                self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                return
            reply = fake.next_reply(request)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send_json(reply.status, {"error": reply.error or {"message": "error"}}, reply.headers)
            elif body.get("stream"):
                self._stream(body, reply)
            else:
                self._send_json(200, completion_body(body, reply), reply.headers)

        def _stream(self, body: dict[str, Any], reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            events = [f"data: {json.dumps(c)}\n\n" for c in stream_chunks(body, reply)] + ["data: [DONE]\n\n"]
            for event in events:
                raw = event.encode()
                self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a real endpoint takes many connections at once; the default backlog of 5 refuses some

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, Ctrl-C) is normal here, not worth a traceback."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(fake: FakeOpenAI) -> Callable[[], None]:
    """Serve `fake` on a free loopback port in a background thread; returns the function that stops it."""
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-openai", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running fake OpenAI-compatible server (see the module docstring)."""
    fake = FakeOpenAI()
    stop = serve(fake)
    try:
        yield fake
    finally:
        stop()

"""A local HTTP server that answers like SearXNG, Brave, Tavily and Serper, in each one's documented format.

The query text scripts the behaviour, so one server serves every scenario:

    "... fail429once ..."  HTTP 429 (Retry-After: 0) on the first request of that query, then results
    "... fail500 ..."      HTTP 500 every time
    "... down-<engine> ..." HTTP 503 every time, from that engine only
    "... malformed ..."    HTTP 200 with a body that is not JSON
    "... noresults ..."    HTTP 200 with the engine's empty result list
    anything else          three results; the first URL is shared by every engine (for de-duplication)

A keyed engine answers 401 unless the request carries `KEY`. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

KEY = "sk-test-SECRET-4242"
SHARED_URL = "https://example.org/shared"


def _hits(engine: str, query: str) -> list[tuple[str, str, str]]:
    return [
        (f"Shared page about {query}", SHARED_URL, f"<strong>{query}</strong> seen by every engine"),
        (f"{engine} page one", f"https://{engine}.example.com/one", f"first {engine} snippet"),
        (f"{engine} page two", f"https://{engine}.example.com/two", f"second {engine} snippet"),
    ]


def searxng_body(query: str, empty: bool) -> dict:
    hits = [] if empty else _hits("searxng", query)
    results = [{"title": t, "url": u, "content": s, "engine": "bing", "score": 3.0 - i} for i, (t, u, s) in enumerate(hits)]
    return {"query": query, "number_of_results": len(results), "results": results, "answers": [], "suggestions": []}


def brave_body(query: str, empty: bool) -> dict:
    hits = [] if empty else _hits("brave", query)
    body: dict = {"type": "search", "query": {"original": query}}
    if hits:
        body["web"] = {"type": "search", "results": [{"title": t, "url": u, "description": s} for t, u, s in hits]}
    return body


def tavily_body(query: str, empty: bool) -> dict:
    hits = [] if empty else _hits("tavily", query)
    return {
        "query": query,
        "results": [{"title": t, "url": u, "content": s, "score": 0.9 - 0.1 * i} for i, (t, u, s) in enumerate(hits)],
        "response_time": 0.1,
    }


def serper_body(query: str, empty: bool) -> dict:
    hits = [] if empty else _hits("serper", query)
    return {
        "searchParameters": {"q": query, "type": "search"},
        "organic": [{"title": t, "link": u, "snippet": s, "position": i + 1} for i, (t, u, s) in enumerate(hits)],
    }


class FakeEngines:
    """The running server: `url`, recorded `requests` (path, headers, query)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeEngines:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                self._answer(parts.path, params.get("q", ""), params)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                self._answer(urlsplit(self.path).path, body.get("query") or body.get("q") or "", body)

            def _answer(self, path: str, query: str, params: dict) -> None:
                engine = path.strip("/").split("/")[0]
                with fake.lock:
                    fake.requests.append({"engine": engine, "query": query, "params": params, "headers": dict(self.headers)})
                    fake.seen[f"{engine}:{query}"] += 1
                    first = fake.seen[f"{engine}:{query}"] == 1
                if engine != "searxng" and KEY not in " ".join(self.headers.values()):
                    return self._send(401, json.dumps({"error": "invalid api key"}).encode())
                if engine == "searxng" and params.get("format") != "json":
                    return self._send(403, b"format not allowed")
                if "fail429once" in query and first:
                    return self._send(429, b'{"error": "rate limited"}', {"Retry-After": "0"})
                if f"down-{engine}" in query:
                    return self._send(503, b"service unavailable")
                if "fail500" in query:
                    return self._send(500, b"internal error")
                if "malformed" in query:
                    return self._send(200, b"<html>not json</html>")
                builders = {"searxng": searxng_body, "brave": brave_body, "tavily": tavily_body, "serper": serper_body}
                self._send(200, json.dumps(builders[engine](query, "noresults" in query)).encode())

            def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def engine_settings(url: str, key: str = KEY) -> dict:
    """Settings that point every web engine at the fake (each under its own path)."""
    return {
        "searxng_url": f"{url}/searxng",
        "brave_url": f"{url}/brave/res/v1/web/search",
        "tavily_url": f"{url}/tavily/search",
        "serper_url": f"{url}/serper/search",
        "brave_api_key": key,
        "tavily_api_key": key,
        "serper_api_key": key,
    }

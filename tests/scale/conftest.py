"""Real local stand-ins of scale-out engines: an S3 server (moto) and a store that ignores conditional puts.

The S3 server is moto's real HTTP server on a loopback port, started once per session and stopped by
its PID. `LossyProxy` forwards to it but drops `If-None-Match`, as an S3-compatible store without
conditional writes would: the real engine answers everything else.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fakes.openai_server import fake_openai  # noqa: F401 (a fixture of the Ray tests)
from tests.harness import free_port, wait_for_port

BUCKET = "memento-banks"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


@dataclass
class S3:
    endpoint: str

    def env(self, endpoint: str | None = None) -> dict[str, str]:
        """The standard AWS variables pointing at this server (or at `endpoint`, a proxy of it)."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint or self.endpoint}

    def bank(self) -> str:
        """A fresh bank URI in the bucket."""
        return f"s3://{BUCKET}/bank-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if server is None:
        pytest.skip("moto_server is missing: pip install -e '.[dev]' (moto[server] is a dev dependency)")
    port = free_port()
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process, timeout=30)
        endpoint = f"http://127.0.0.1:{port}"
        from botocore.session import get_session

        client = get_session().create_client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=BUCKET)
        yield S3(endpoint)
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def s3_env(s3, monkeypatch) -> S3:
    """The AWS variables set in this process (and so in its children) for the test."""
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3


class _Forward(BaseHTTPRequestHandler):
    upstream: tuple[str, int]
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "if-none-match"}
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def lossy_endpoint(s3) -> Iterator[str]:
    """An endpoint in front of the S3 server that drops If-None-Match: a store without conditional puts."""
    host, port = s3.endpoint.removeprefix("http://").split(":")
    handler = type("Forward", (_Forward,), {"upstream": (host, int(port))})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.server_address[1]}"
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": root, **extra}

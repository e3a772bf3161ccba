"""Fixtures of the client tests: the fake OpenAI server, a toy MCP server entry, a config pointing at both."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from memento_client.config import ClientConfig
from memento_client.mcp.config import ServerEntry
from tests.fakes.openai_server import fake_openai  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parents[2]


def toy_entry(name: str = "toy", **kwargs) -> ServerEntry:
    """The test-only toy MCP server (tests/client/toy_server.py) as an mcp.json entry."""
    return ServerEntry(name=name, command=sys.executable, args=("-m", "tests.client.toy_server"), cwd=str(REPO), **kwargs)


def with_memory(workspace: Path) -> None:
    """Add the real memory server (feature-hash embeddings: no torch start-up, bank in workspace/bank) to
    the workspace's mcp.json."""
    config = json.loads((workspace / "mcp.json").read_text())
    args = ["-m", "memento_memory", "--db", str(workspace / "bank"), "--model", "feature-hash"]
    config["mcpServers"]["memory"] = {"command": sys.executable, "args": args, "cwd": str(REPO)}
    (workspace / "mcp.json").write_text(json.dumps(config))


def make_config(fake, **overrides) -> ClientConfig:
    values = {"model": "fake-model", "base_url": fake.url, "api_key": "test", "retries": 2, **overrides}
    return ClientConfig(**values)


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MEMENTO_CLIENT_MODEL"):
        monkeypatch.delenv(name, raising=False)

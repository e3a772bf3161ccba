"""Without --root, the documents server reads the host's MCP roots (roots/list), on both protocol eras,
and refuses the whole disk; file:// URLs name files inside the roots."""

from __future__ import annotations

import os

import pytest
from mcp import Client, StdioServerParameters
from mcp_types import ListRootsResult, Root

from tests.harness import error_text, payload, script

pytestmark = pytest.mark.anyio


def client(cwd: str, roots: list[str] | None, mode: str = "auto", args: tuple[str, ...] = ()) -> Client:
    async def list_roots(_context) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=uri) for uri in roots or []])

    params = StdioServerParameters(command=script("documents"), args=list(args), env=dict(os.environ), cwd=cwd)
    return Client(params, mode=mode, read_timeout_seconds=120, list_roots_callback=list_roots if roots is not None else None)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_host_s_roots_are_the_folders_read_when_no_root_is_given(tmp_path, mode):
    inside, outside = tmp_path / "workspace", tmp_path / "elsewhere"
    inside.mkdir(), outside.mkdir()
    (inside / "notes.md").write_text("# Inside\nquartz lantern")
    (outside / "secret.md").write_text("# Secret")
    async with client("/", [inside.as_uri()], mode) as session:  # started in / as Claude Desktop does
        read = payload(await session.call_tool("read_document", {"source": "notes.md"}))
        assert "quartz lantern" in read["markdown"]
        by_url = payload(await session.call_tool("read_document", {"source": (inside / "notes.md").as_uri()}))
        assert by_url["markdown"] == read["markdown"]
        refused = error_text(await session.call_tool("read_document", {"source": str(outside / "secret.md")}))
        assert "outside the allowed roots" in refused and str(inside) in refused


async def test_root_flags_win_over_the_host_s_roots(tmp_path):
    flagged, host = tmp_path / "flagged", tmp_path / "host"
    flagged.mkdir(), host.mkdir()
    (host / "h.md").write_text("host file")
    async with client(str(tmp_path), [host.as_uri()], args=("--root", str(flagged))) as session:
        assert "outside the allowed roots" in error_text(await session.call_tool("read_document", {"source": str(host / "h.md")}))


async def test_the_whole_disk_is_refused_from_the_host_and_from_a_server_started_in_root(tmp_path):
    async with client("/", ["file:///"]) as session:
        assert "a host root is / (the whole disk)" in error_text(await session.call_tool("read_document", {"source": "etc/hostname"}))
    async with client("/", None) as session:  # a host without roots, server started in /
        text = error_text(await session.call_tool("read_document", {"source": "etc/hostname"}))
        assert "add --root DIR" in text


def test_a_tilde_root_in_the_config_file_is_the_user_s_folder(tmp_path, monkeypatch):
    from memento_core.settings import load_settings
    from memento_servers.documents.config import DocumentsSettings

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "papers").mkdir()
    (tmp_path / "config.toml").write_text('[documents]\nroots = ["~/papers"]\n')
    settings = load_settings(DocumentsSettings, "documents", {}, tmp_path / "config.toml", explicit_file=True)
    assert settings.roots == [(tmp_path / "papers").resolve()]

"""memento-documents' roots are absolute or explicit, never / by accident (hosts start servers in /)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import anyio
import pytest

from memento_core.errors import ConfigError
from memento_core.settings import load_settings
from memento_servers.documents.config import DocumentsSettings
from tests.harness import connect, error_text, payload, script


def _run(args: list[str], cwd: str) -> subprocess.CompletedProcess:
    return subprocess.run([script("documents"), *args, "--print-config"], cwd=cwd, capture_output=True, text=True, timeout=60)


# Without any --root the server starts even in / and reads the host's MCP roots; with none, it refuses every
# read there (tests/documents/test_roots.py).
@pytest.mark.parametrize("args", [["--root", "."], ["--root", "home"], ["--root", "/"], ["--root", "/tmp/.."]])
def test_the_cli_refuses_a_root_that_is_the_whole_disk_or_relative_to_it(args: list[str]):
    done = _run(args, cwd="/")
    assert done.returncode == 2, done.stdout
    message = done.stderr.strip()
    assert "\n" not in message and "absolute folder" in message, message


def test_the_cli_accepts_an_absolute_root_a_relative_one_from_a_real_folder_and_an_explicit_filesystem_root(tmp_path: Path):
    for args, cwd, root in (
        (["--root", str(tmp_path)], "/", tmp_path),
        (["--root", "."], str(tmp_path), tmp_path),
        (["--root", "/", "--allow-filesystem-root"], str(tmp_path), Path("/")),
    ):
        done = _run(args, cwd)
        assert done.returncode == 0, done.stderr
        assert f'"{root.resolve()}"' in done.stdout


def test_settings_refuse_the_filesystem_root_from_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MEMENTO_DOCUMENTS_ROOTS", "/")
    with pytest.raises(ConfigError, match="--allow-filesystem-root"):
        load_settings(DocumentsSettings, "documents", {}, None, explicit_file=False)
    monkeypatch.delenv("MEMENTO_DOCUMENTS_ROOTS")
    config = tmp_path / "config.toml"
    config.write_text('[documents]\nroots = ["docs"]\n')
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir("/")
    with pytest.raises(ConfigError, match="relative root docs"):
        load_settings(DocumentsSettings, "documents", {}, config, explicit_file=True)
    monkeypatch.chdir(tmp_path)
    assert load_settings(DocumentsSettings, "documents", {}, config, explicit_file=True).roots == [(tmp_path / "docs").resolve()]
    monkeypatch.setenv("HOME", str(tmp_path))
    assert DocumentsSettings(roots=[Path("~/docs")]).roots == [(tmp_path / "docs").resolve()]


@pytest.mark.anyio
async def test_a_server_started_in_a_folder_with_root_dot_reads_only_that_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "note.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("outside")
    monkeypatch.chdir(tmp_path / "root")  # the stdio client starts the server in the current directory
    async with connect("documents", args=["--root", "."]) as client:
        with anyio.fail_after(60):
            assert payload(await client.call_tool("read_document", {"source": "note.txt"}))["markdown"] == "inside"
            for source in ("../secret.txt", "/etc/passwd"):
                assert "outside the allowed roots" in error_text(await client.call_tool("read_document", {"source": source}))

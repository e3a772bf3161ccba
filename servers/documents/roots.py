"""The folders one call may read: the `--root` folders; without any, the host's MCP roots (`roots/list`,
as the official filesystem server does); a host without roots, the working directory, unless that is `/`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mcp_types import ListRootsResult

from memento_servers.documents.errors import SourceRefused
from memento_servers.documents.sources import file_url_path


def host_roots(result: ListRootsResult) -> list[Path]:
    """The folders of the host's `file://` roots (other URIs are not folders of this machine)."""
    folders = []
    for root in result.roots:
        try:
            folders.append(file_url_path(str(root.uri)))
        except SourceRefused:
            continue
    return folders


def allowed_roots(configured: Sequence[Path], host: ListRootsResult | None, allow_filesystem_root: bool) -> list[Path]:
    """The roots of this call, or `SourceRefused` saying how to give the server a folder."""
    if configured:
        return list(configured)
    if host is not None:
        folders = [folder.resolve() for folder in host_roots(host) if folder.is_dir()]
        if not folders:
            raise SourceRefused("the host's roots name no existing local folder: add a folder to the workspace, or start the server with --root DIR")
        if not allow_filesystem_root and any(folder.parent == folder for folder in folders):
            raise SourceRefused("a host root is / (the whole disk): open a folder instead, or start the server with --allow-filesystem-root")
        return folders
    cwd = Path.cwd()
    if cwd.parent == cwd and not allow_filesystem_root:
        raise SourceRefused(
            "no folder to read: the host declares no roots and started the server in /; add --root DIR (an absolute "
            "folder) to the server's args"
        )
    return [cwd]

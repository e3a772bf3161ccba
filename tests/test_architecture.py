"""Import boundaries and packaging: the layers stay apart, every package ships.

    memento_core      no MCP, no other memento package
    runtime           memento_servers.runtime: core only (CLI, stdio, HTTP, auth, tool registration)
    each server       core, the runtime, itself, and other servers' plain modules (never their MCP layer)
    memory library    core and itself: no runtime, no server, no MCP
    memory server     memory/server.py, cli.py, __main__.py: the library plus the runtime
    client            core, itself and the memory package's models (the memory tools' contract)

Every import counts: `import x`, `from x import y`, and any string naming a memento module
(what `importlib.import_module` or `python -m` would load).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"core": "memento_core", "servers": "memento_servers", "memory": "memento_memory", "client": "memento_client"}
SERVER_NAMES = ("search", "crawl", "documents", "code")
MCP_LAYER = ("server", "cli", "__main__")
MODULE_STRING = re.compile(r"^memento_(core|servers|memory|client)(\.\w+)*$")
MEMORY_SERVER_MODULES = {f"memento_memory.{name}" for name in MCP_LAYER}


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names if node.module.startswith("memento_")}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.match(node.value):
            names.add(node.value)
    return names


def _owner(module: str) -> str:
    """The layer a module belongs to: core, runtime, a server's name, memory, memory-server or client."""
    parts = module.split(".")
    if parts[0] == "memento_servers":
        return parts[1] if len(parts) > 1 and parts[1] in SERVER_NAMES else "runtime"
    if parts[0] == "memento_memory" and ".".join(parts[:2]) in MEMORY_SERVER_MODULES:
        return "memory-server"
    return parts[0].removeprefix("memento_")


def _is_mcp_layer(module: str) -> bool:
    return module.split(".")[-1] in MCP_LAYER


def _allowed(owner: str, imported: str) -> bool:
    target = _owner(imported)
    if target in (owner, "core"):
        return True
    if owner in SERVER_NAMES:
        return target == "runtime" or (target in (*SERVER_NAMES, "memory") and not _is_mcp_layer(imported))
    if owner == "memory-server":
        return target in ("memory", "runtime")
    if owner == "client":
        return imported == "memento_memory.models" or imported.startswith("memento_memory.models.")
    return False  # core imports only core; the runtime and the memory library add only themselves


def _violations(external: tuple[str, ...] = ()) -> list[str]:
    found = []
    for module, path in _modules().items():
        owner = _owner(module)
        for imported in sorted(_imports(path)):
            if imported.startswith("memento_") and not _allowed(owner, imported):
                found.append(f"{module} ({owner}) imports {imported}")
            elif external and imported.split(".")[0] in external:
                found.append(f"{module} ({owner}) imports {imported}")
    return found


def test_every_layer_imports_only_what_it_may():
    violations = _violations()
    assert not violations, "\n".join(violations)


def test_the_core_and_the_memory_library_never_import_mcp_or_a_web_server():
    mcp_free = {m: p for m, p in _modules().items() if _owner(m) in ("core", "memory")}
    found = [
        f"{module} imports {imported}"
        for module, path in mcp_free.items()
        for imported in _imports(path)
        if imported.split(".")[0] in ("mcp", "uvicorn", "starlette", "memento_servers")
    ]
    assert mcp_free and not found, "\n".join(found)


def test_the_rules_catch_what_they_forbid():
    assert not _allowed("core", "memento_servers.runtime.cli")
    assert not _allowed("memory", "memento_servers.runtime")
    assert not _allowed("client", "memento_servers.search.server")
    assert not _allowed("client", "memento_memory.bank")
    assert not _allowed("crawl", "memento_servers.documents.server")
    assert not _allowed("runtime", "memento_servers.search.config")
    assert _allowed("crawl", "memento_servers.documents.convert")
    assert _allowed("memory-server", "memento_servers.runtime")
    assert _imports(Path(__file__)) >= {"memento_servers.runtime.cli", "memento_memory.models"}


LIBRARY_IMPORTS = [
    ("memento_memory", ("mcp", "uvicorn", "starlette", "memento_servers")),
    ("memento_memory.bank", ("mcp", "uvicorn", "starlette", "memento_servers")),
    ("memento_core.fetch", ("mcp", "uvicorn", "starlette", "memento_servers")),
    ("memento_client.cli", ("memento_servers",)),  # the client speaks MCP through the SDK, never via the runtime
]


@pytest.mark.parametrize(("module", "forbidden"), LIBRARY_IMPORTS)
def test_importing_a_library_loads_no_server(module, forbidden):
    code = f"import sys, {module}\nprint(','.join(sorted(m for m in {forbidden!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "", f"import {module} loaded {done.stdout.strip()}"


def test_every_package_is_listed_in_pyproject():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join((package, *parts)))
    assert on_disk == declared

"""Import boundaries and packaging: servers stay independent, every package ships."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"servers": "memento_servers", "memory": "memento_memory", "client": "memento_client"}
SERVER_NAMES = ("search", "crawl", "documents", "code")


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            found[".".join((package, *parts))] = path
    return found


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _owner(module: str) -> str:
    """Which component a module belongs to: runtime, a server name, memory or client."""
    parts = module.split(".")
    if parts[0] == "memento_servers" and len(parts) > 1 and parts[1] in SERVER_NAMES:
        return parts[1]
    if parts[0] == "memento_servers":
        return "runtime"
    return parts[0].removeprefix("memento_")


def test_no_component_imports_another_components_mcp_layer_or_the_client():
    violations = []
    for module, path in _modules().items():
        owner = _owner(module)
        for imported in _imports(path):
            if not imported.startswith("memento_"):
                continue
            target = _owner(imported)
            if target == owner:
                continue
            if target == "client" or imported.endswith(".server") or imported.endswith(".cli"):
                violations.append(f"{module} imports {imported}")
            if owner == "runtime" and target != "runtime":
                violations.append(f"the shared runtime {module} depends on {imported}")
    assert not violations, "\n".join(violations)


def test_every_package_is_listed_in_pyproject():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = set()
    for folder, package in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT / folder).parts
            on_disk.add(".".join((package, *parts)))
    assert on_disk == declared

"""The installed memento-mcp version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("memento-mcp")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"

"""The installed memento version, and the name of the distribution it is installed as."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "memento-agent"  # on the package index; `memento-mcp` there is an unrelated project


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"

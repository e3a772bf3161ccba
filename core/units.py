"""Sizes: every memento setting that says MB means MiB (2**20 bytes)."""

from __future__ import annotations

MIB = 1 << 20


def mib(n: float) -> int:
    """`n` mebibytes in bytes."""
    return int(n * MIB)

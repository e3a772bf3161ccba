"""memento_memory: the case bank as a Python library (`CaseBank`), with a thin MCP server in `server`.

    from memento_memory import BankConfig, CaseBank

Exports load lazily, so importing the server stays fast.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BankConfig", "CaseBank"]


def __getattr__(name: str) -> Any:
    if name == "CaseBank":
        from memento_memory.bank import CaseBank

        return CaseBank
    if name == "BankConfig":
        from memento_memory.config import BankConfig

        return BankConfig
    raise AttributeError(name)

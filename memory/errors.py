"""Errors of the case bank; each message says what to change.

    MementoError (memento_core)
    └── CaseBankError             any refusal of the case bank
        ├── InvalidCaseError      bad input: too long, bad id, bad reward, unknown filter (ValueError)
        ├── CaseNotFoundError     no case with that id (KeyError)
        └── ModelMismatchError    the table was embedded with another model: reindex or pick that model
"""

from __future__ import annotations

from memento_core.errors import MementoError


class CaseBankError(MementoError):
    """The case bank refused a request; the message is safe to show to a user or a model."""


class InvalidCaseError(CaseBankError, ValueError):
    """The input breaks a limit or a rule; fix the named field and retry."""


class CaseNotFoundError(CaseBankError, KeyError):
    """No case has this id (it may have been deleted)."""


class ModelMismatchError(CaseBankError):
    """The bank's stored vectors come from another embedding model than the one configured."""

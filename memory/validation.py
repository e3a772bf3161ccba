"""Input checks with messages that say what to change (sizes, ids, rewards)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from memento_memory.config import BankConfig
from memento_memory.errors import InvalidCaseError
from memento_memory.models import ID_PATTERN, NewCase


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'case'}: {e['msg']}" for e in exc.errors())


def check_task(task: str, config: BankConfig) -> None:
    if not task or not task.strip():
        raise InvalidCaseError("task is empty: pass the task or question text")
    if len(task) > config.max_task_chars:
        raise InvalidCaseError(
            f"task is {len(task)} characters, over the limit of {config.max_task_chars}: shorten it to its essentials"
        )


def check_id(case_id: str) -> None:
    if not re.match(ID_PATTERN, case_id):
        raise InvalidCaseError(
            f"invalid case id {case_id!r}: use 1-128 letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )


def check_k(k: int, config: BankConfig) -> None:
    if not 1 <= k <= config.max_k:
        raise InvalidCaseError(f"k must be between 1 and {config.max_k}, got {k}")


def new_case(item: NewCase | dict[str, Any], config: BankConfig) -> NewCase:
    """A validated case to write, within the configured limits."""
    try:
        case = item if isinstance(item, NewCase) else NewCase.model_validate(item)
    except ValidationError as exc:
        raise InvalidCaseError(f"invalid case: {_problems(exc)}") from exc
    check_task(case.task, config)
    plan_chars = len(json.dumps(case.plan))
    if plan_chars > config.max_plan_chars:
        raise InvalidCaseError(
            f"plan is {plan_chars} characters as JSON, over the limit of {config.max_plan_chars}: keep only its steps"
        )
    for name in ("answer", "summary"):
        if len(getattr(case, name)) > config.max_text_chars:
            raise InvalidCaseError(f"{name} is over the limit of {config.max_text_chars} characters: shorten it")
    if len(case.tags) > config.max_tags:
        raise InvalidCaseError(f"{len(case.tags)} tags given, at most {config.max_tags} allowed")
    return case


def new_cases(items: Iterable[NewCase | dict[str, Any]], config: BankConfig) -> list[NewCase]:
    cases = [new_case(item, config) for item in items]
    ids = [case.id for case in cases if case.id]
    if len(ids) != len(set(ids)):
        raise InvalidCaseError("the same case id appears twice in one write: give each case its own id")
    if len(cases) > config.max_batch:
        raise InvalidCaseError(f"{len(cases)} cases in one write, at most {config.max_batch}: split the batch")
    return cases

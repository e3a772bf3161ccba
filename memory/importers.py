"""Reading cases and transitions from JSONL: our own export format and Memento's files.

Cases: a line with `task` is one of ours (as `memento-memory export` writes it); a line with
`question` or `case` is Memento's `memory.jsonl` (`plan` a JSON string, `reward` or
`case_label` positive/negative). Memento cases get ids derived from their content, so
importing the same file twice stores nothing new.

Transitions: ours are {task, case_id, reward}; Memento's `training_data.jsonl` rows are
{query, case, plan, case_label, truth_label}, where `case` is the case's task text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from memento_memory.errors import InvalidCaseError
from memento_memory.models import NewCase, Transition

LABELS = {"positive": 1.0, "negative": 0.0}


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise InvalidCaseError(f"{path}:{number}: not JSON ({exc})") from exc
            if not isinstance(row, dict):
                raise InvalidCaseError(f"{path}:{number}: expected a JSON object")
            yield number, row


def _plan(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _reward(row: dict[str, Any], where: str) -> float:
    if "reward" in row:
        return float(row["reward"])
    label = row.get("case_label")
    if label in LABELS:
        return LABELS[label]
    raise InvalidCaseError(f"{where}: no reward and no case_label positive/negative")


def content_id(task: str, plan: Any) -> str:
    digest = hashlib.sha256(json.dumps([task, plan], sort_keys=True).encode()).hexdigest()
    return f"memento-{digest[:24]}"


def read_cases(path: Path, source: str | None = None, tags: list[str] | None = None) -> Iterator[NewCase]:
    """Cases from a JSONL file in either format (duplicate Memento cases are skipped)."""
    seen: set[str] = set()
    for number, row in _lines(path):
        where = f"{path}:{number}"
        if "task" in row:
            fields = {name: row[name] for name in NewCase.model_fields if name in row}
            fields.setdefault("source", source or f"import:{path.name}")
            fields["tags"] = sorted({*fields.get("tags", []), *(tags or [])})
            yield NewCase.model_validate(fields)
            continue
        task = row.get("question", row.get("case"))
        if not isinstance(task, str):
            raise InvalidCaseError(f"{where}: a case needs `task`, `question` or `case` text")
        plan = _plan(row.get("plan"))
        case_id = content_id(task, plan)
        if case_id in seen:
            continue
        seen.add(case_id)
        reward = _reward(row, where)
        yield NewCase(
            id=case_id, task=task, plan=plan, reward=reward, source=source or f"memento:{path.name}",
            outcome=row.get("case_label", ""), tags=list(tags or []),
        )


def read_transitions(path: Path, case_id_for: Callable[[str, Any], str | None]) -> Iterator[Transition]:
    """Transitions from a JSONL file; `case_id_for(case_text, plan)` finds Memento cases in the bank."""
    for number, row in _lines(path):
        if "case_id" in row:
            yield Transition.model_validate({k: row[k] for k in Transition.model_fields if k in row})
            continue
        if "query" not in row or "case" not in row:
            raise InvalidCaseError(f"{path}:{number}: a transition needs task/case_id/reward or query/case/truth_label")
        case_id = case_id_for(row["case"], _plan(row.get("plan")))
        if case_id is None:
            continue
        reward = row.get("truth_label", row.get("reward"))
        yield Transition(task=row["query"], case_id=case_id, reward=float(bool(reward) if isinstance(reward, bool) else reward))

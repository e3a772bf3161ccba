"""Question sets for `memento eval`: JSONL (DeepResearcher's `answers`, Memento's `ground_truth`
with `<|answer_split|>`) and CSV (SimpleQA, FRAMES: `question`/`problem` and `true_answer`/`answer`)."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memento_core.errors import ConfigError

ANSWER_SPLIT = "<|answer_split|>"
_QUESTION_KEYS = ("question", "problem", "query", "Prompt", "prompt")
_ANSWER_KEYS = ("answers", "ground_truth", "golden_answers", "true_answer", "answer", "Answer")


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: list[str]
    source: str


def _answers(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(ANSWER_SPLIT) if part.strip()]


def _item(row: dict[str, Any], default_source: str, where: str) -> Item:
    question = next((str(row[k]).strip() for k in _QUESTION_KEYS if row.get(k)), "")
    if not question:
        raise ConfigError(f"{where}: no question field (one of {', '.join(_QUESTION_KEYS)})")
    answers = next((_answers(row[k]) for k in _ANSWER_KEYS if row.get(k) not in (None, "", [])), [])
    source = str(row.get("data_source") or row.get("source") or default_source)
    identifier = row.get("id") or row.get("_id") or hashlib.sha1(question.encode()).hexdigest()[:16]
    return Item(str(identifier), question, answers, source)


def _rows(path: Path) -> list[tuple[dict[str, Any], str]]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [(row, f"{path}:{n + 2}") for n, row in enumerate(csv.DictReader(handle))]
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append((json.loads(line), f"{path}:{n}"))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{n}: not JSON ({exc.msg})") from exc
    return rows


def load_dataset(path: Path, *, limit: int | None = None, seed: int | None = None) -> list[Item]:
    """The dataset's items (duplicate ids dropped); `seed` samples instead of taking the first `limit`."""
    if not path.exists():
        raise ConfigError(f"dataset {path} does not exist")
    default_source = path.stem.removesuffix("_test").removesuffix("_dev")
    items: dict[str, Item] = {}
    for row, where in _rows(path):
        item = _item(row, default_source, where)
        items.setdefault(item.id, item)
    selected = list(items.values())
    if seed is not None:
        random.Random(seed).shuffle(selected)
    return selected[:limit] if limit else selected

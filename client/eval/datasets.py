"""Question sets for `memento eval`: QA sets in JSONL (DeepResearcher's `answers`, Memento's `ground_truth`
with `<|answer_split|>`) and CSV (SimpleQA, FRAMES: `question`/`problem` and `true_answer`/`answer`), and the
benchmarks' own layouts (`layouts`: GAIA, HLE, GPQA, MMLU-Pro, AIME, VQA) in JSONL, JSON, CSV or parquet."""

from __future__ import annotations

import csv
import hashlib
import json
import random
from pathlib import Path
from typing import Any

from memento_client.eval.items import Item
from memento_client.eval.layouts import LAYOUTS, Source, detect
from memento_core.errors import ConfigError

BENCHMARKS = ("qa", *LAYOUTS)

ANSWER_SPLIT = "<|answer_split|>"
_QUESTION_KEYS = ("question", "problem", "query", "Prompt", "prompt")
_ANSWER_KEYS = ("answers", "ground_truth", "golden_answers", "true_answer", "answer", "Answer")


def _answers(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(ANSWER_SPLIT) if part.strip()]


def qa_item(row: dict[str, Any], source: Source, where: str) -> Item:
    """A question-answering row (DeepResearcher, Memento, SimpleQA, FRAMES): scored by EM/F1 and PM."""
    question = next((str(row[k]).strip() for k in _QUESTION_KEYS if row.get(k)), "")
    if not question:
        raise ConfigError(f"{where}: no question field (one of {', '.join(_QUESTION_KEYS)})")
    answers = next((_answers(row[k]) for k in _ANSWER_KEYS if row.get(k) not in (None, "", [])), [])
    data_source = str(row.get("data_source") or row.get("source") or source.name)
    identifier = row.get("id") or row.get("_id") or hashlib.sha1(question.encode()).hexdigest()[:16]
    return Item(str(identifier), question, answers, data_source)


def _rows(path: Path) -> list[tuple[dict[str, Any], str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [(row, f"{path}:{n + 2}") for n, row in enumerate(csv.DictReader(handle))]
    if suffix == ".parquet":
        import pyarrow.parquet

        try:
            table = pyarrow.parquet.read_table(path)
        except Exception as exc:  # pyarrow raises several kinds for a file that is not parquet
            raise ConfigError(f"{path}: not a parquet file ({exc})") from exc
        return [(row, f"{path}:row {n + 1}") for n, row in enumerate(table.to_pylist())]
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ConfigError(f"{path}: a .json dataset must be a list of objects (else use JSONL)")
        return [(row, f"{path}:item {n + 1}") for n, row in enumerate(data)]
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}:{n}: not JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ConfigError(f"{path}:{n}: a line must be a JSON object")
            rows.append((row, f"{path}:{n}"))
    return rows


def dataset_file(path: Path) -> Path:
    """The file of a dataset given as a file or as a GAIA folder (metadata.jsonl or metadata.parquet in it)."""
    if path.is_dir():
        found = [path / name for name in ("metadata.jsonl", "metadata.parquet") if (path / name).is_file()]
        if not found:
            raise ConfigError(f"dataset folder {path} has no metadata.jsonl or metadata.parquet (GAIA's layout); name a file")
        return found[0]
    if not path.exists():
        raise ConfigError(f"dataset {path} does not exist")
    return path


def load_dataset(
    path: Path, *, limit: int | None = None, seed: int | None = None, benchmark: str | None = None
) -> tuple[str, list[Item]]:
    """The dataset's layout (`benchmark`, else detected) and items (duplicate ids dropped); `seed` samples
    instead of taking the first `limit`, and shuffles multiple-choice options."""
    file = dataset_file(path)
    rows = _rows(file)
    layout = benchmark or (detect(rows[0][0], file) if rows else "qa")
    if layout not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {layout!r}: one of {', '.join(BENCHMARKS)}")
    name = file.stem.removesuffix("_test").removesuffix("_dev") if layout == "qa" else layout  # a benchmark's files have split names
    source = Source(file.parent, name, seed or 0)
    convert = LAYOUTS.get(layout, qa_item)
    items: dict[str, Item] = {}
    for row, where in rows:
        item = convert(row, source, where)
        items.setdefault(item.id, item)
    selected = list(items.values())
    if seed is not None:
        random.Random(seed).shuffle(selected)
    return layout, selected[:limit] if limit else selected

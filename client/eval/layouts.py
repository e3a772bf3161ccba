"""Each benchmark's own published file layout, row by row, as `Item`s.

    gaia      metadata.jsonl/.parquet: task_id, Question, Level, Final answer, file_name (attachment beside it)
    hle       question, answer, answer_type, image (data URI or empty), category; judged (the authors' way)
    gpqa      CSV: Question, Correct Answer, Incorrect Answer 1..3, High-level domain, Subdomain, Record ID
    mmlu-pro  question_id, question, options (list), answer (letter), answer_index, category
    aime      problem/Problem/question and answer/Answer (an integer), id/ID
    vqa       image (path, data URI or base64) or image_path, question, answers (strings or {"answer": ...})

Multiple-choice options are shuffled per question by the seed (GPQA lists the correct answer first).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memento_client.eval.items import IMAGE_SUFFIXES, Item, image_ref, inside
from memento_client.eval.scoring import LETTERS
from memento_core.errors import ConfigError

NO_GOLD = {"", "?"}  # GAIA's test split hides its answers as "?"


@dataclass(frozen=True)
class Source:
    """Where rows come from: the dataset's folder (attachments and image paths resolve there), its name, the seed."""

    folder: Path
    name: str
    seed: int


def _text(row: dict[str, Any], *keys: str) -> str:
    return next((str(row[k]).strip() for k in keys if row.get(k) not in (None, "")), "")


def _id(row: dict[str, Any], question: str, *keys: str) -> str:
    return _text(row, *keys) or hashlib.sha1(question.encode()).hexdigest()[:16]


def _required(value: str, field: str, where: str) -> str:
    if not value:
        raise ConfigError(f"{where}: empty or missing {field}")
    return value


def gaia(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "Question"), "Question", where)
    gold = _text(row, "Final answer")
    files, images = (), ()
    if name := _text(row, "file_name"):
        attachment = inside(source.folder, name, where)
        if attachment is None:
            raise ConfigError(f"{where}: attachment {name} is not in {source.folder} (GAIA's files sit beside metadata.jsonl)")
        files = (str(attachment),)
        images = files if attachment.suffix.lower() in IMAGE_SUFFIXES else ()
    level = _text(row, "Level")
    return Item(
        _id(row, question, "task_id"), question, [] if gold in NO_GOLD else [gold], source.name, "gaia",
        f"level {level}" if level else None, files=files, images=images,
    )  # fmt: skip


def _choice_item(identifier: str, question: str, options: list[str], correct: int, source: Source, group: str | None) -> Item:
    order = list(range(len(options)))
    random.Random(f"{source.seed}:{identifier}").shuffle(order)
    shown = tuple(options[i] for i in order)
    text = question + "\n\n" + "\n".join(f"{LETTERS[n]}) {option}" for n, option in enumerate(shown))
    return Item(identifier, text, [LETTERS[order.index(correct)]], source.name, "choice", group, shown)


def gpqa(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "Question"), "Question", where)
    options = [_required(_text(row, k), k, where) for k in ("Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3")]
    group = _text(row, "High-level domain") or _text(row, "Subdomain") or None
    return _choice_item(_id(row, question, "Record ID"), question, options, 0, source, group)


def mmlu_pro(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "question"), "question", where)
    options = [str(o).strip() for o in row.get("options") or [] if str(o).strip() not in ("", "N/A")]
    if len(options) < 2 or len(options) > len(LETTERS):
        raise ConfigError(f"{where}: options must list 2 to {len(LETTERS)} answers")
    index = row.get("answer_index")
    if index is None and _text(row, "answer") in LETTERS:
        index = LETTERS.index(_text(row, "answer"))
    if not isinstance(index, int) or not 0 <= index < len(options):
        raise ConfigError(f"{where}: answer_index (or answer letter) does not name one of the {len(options)} options")
    return _choice_item(_id(row, question, "question_id"), question, options, index, source, _text(row, "category") or None)


def hle(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "question"), "question", where)
    image = image_ref(row.get("image"), source.folder, where)
    return Item(
        _id(row, question, "id"), question, [_required(_text(row, "answer"), "answer", where)], source.name, "judge",
        _text(row, "category") or None, images=(image,) if image else (),
    )  # fmt: skip


def aime(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "problem", "Problem", "question", "Question"), "problem", where)
    answer = _required(_text(row, "answer", "Answer"), "answer", where)
    year = _text(row, "year", "Year")
    return Item(_id(row, question, "id", "ID"), question, [answer], source.name, "integer", year or None)


def _vqa_answers(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    texts = [str(v.get("answer", "") if isinstance(v, dict) else v).strip() for v in values if v is not None]
    return list(dict.fromkeys(t for t in texts if t))  # VQA lists one answer per annotator: aliases, once each


def vqa(row: dict[str, Any], source: Source, where: str) -> Item:
    question = _required(_text(row, "question"), "question", where)
    image = next((image_ref(row[k], source.folder, where) for k in ("image", "image_path", "image_file") if row.get(k)), None)
    if image is None:
        raise ConfigError(f"{where}: no image (image, image_path or image_file)")
    answers = _vqa_answers(row.get("answers") if row.get("answers") not in (None, []) else row.get("answer"))
    group = _text(row, "category", "question_type") or None
    return Item(_id(row, question, "id", "question_id"), question, answers, source.name, "qa", group, images=(image,))


LAYOUTS: dict[str, Callable[[dict[str, Any], Source, str], Item]] = {
    "gaia": gaia,
    "hle": hle,
    "gpqa": gpqa,
    "mmlu-pro": mmlu_pro,
    "aime": aime,
    "vqa": vqa,
}


def detect(row: dict[str, Any], path: Path) -> str:
    """The layout a dataset's first row is in; `qa` (questions with answers) when no benchmark's."""
    keys = set(row)
    if {"Question", "Final answer"} <= keys:
        return "gaia"
    if {"Correct Answer", "Incorrect Answer 1"} <= keys:
        return "gpqa"
    if {"question", "options"} <= keys and keys & {"answer_index", "answer"}:
        return "mmlu-pro"
    if {"question", "answer", "answer_type"} <= keys:
        return "hle"
    if "question" in keys and keys & {"image", "image_path", "image_file"}:
        return "vqa"
    if "aime" in path.name.lower() and keys & {"problem", "Problem", "question", "Question"}:
        return "aime"
    return "qa"

"""One evaluation question (`Item`) and what the agent is handed with it: format notes, attached files,
images (as data URIs for the model's image input)."""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from memento_core.errors import ConfigError

MAX_IMAGE_BYTES = 20 * 1024 * 1024  # OpenAI's limit for one image
_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answers: list[str]
    source: str
    kind: str = "qa"  # how it is scored: qa | gaia | choice | integer | judge (see scoring)
    group: str | None = None  # GAIA level, subject or category: the report's breakdown
    choices: tuple[str, ...] = ()  # multiple choice: the options in the order shown (A, B, ...)
    files: tuple[str, ...] = ()  # attached files (absolute paths), read through the documents server
    images: tuple[str, ...] = ()  # data URIs or absolute image paths, sent to a vision model


FORMAT_NOTES = {
    "gaia": "Answer format: a number, as few words as possible, or a comma-separated list of numbers and/or "
    "strings. Numbers without thousands separators or units ($, %) unless asked; strings without articles or "
    "abbreviations, digits in plain text unless asked.",
    "choice": "Answer format: the letter of the correct option only (for example: B).",
    "integer": "Answer format: the integer answer only (from 0 to 999).",
}


def task_notes(item: Item) -> list[str]:
    """What the planner is told besides the question: the answer format, and where the attachments are."""
    notes = [FORMAT_NOTES[item.kind]] if item.kind in FORMAT_NOTES else []
    return notes + [f"Attached file: {f} (read it with the documents tool)." for f in item.files]


def stage_attachments(items: Sequence[Item], folder: Path) -> list[Item]:
    """The items with their attached files linked (else copied) into `folder/<task id>/`, the only folder
    the documents server is given: the dataset's own folder, which holds the gold answers, stays unreadable
    to the agent."""
    staged = []
    for item in items:
        files = []
        for name in item.files:
            source = Path(name)
            target = folder / re.sub(r"[^\w.-]", "_", item.id) / source.name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(source, target)
                except OSError:  # another file system, or links not allowed
                    shutil.copyfile(source, target)
            files.append(str(target.resolve()))
        staged.append(replace(item, files=tuple(files)) if files else item)
    return staged


def _sniff(raw: bytes) -> str | None:
    return next((mime for magic, mime in _MAGIC.items() if raw.startswith(magic)), None)


def _encoded(raw: bytes, mime: str | None, where: str) -> str:
    if len(raw) > MAX_IMAGE_BYTES:
        raise ConfigError(f"{where}: image of {len(raw) // 1024} KiB is over the {MAX_IMAGE_BYTES // 1024} KiB limit")
    mime = mime or _sniff(raw)
    if mime is None:
        raise ConfigError(f"{where}: not a PNG, JPEG, GIF or WebP image")
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def inside(folder: Path, name: str, where: str) -> Path | None:
    """The file `name` names inside the dataset's `folder`, or None when there is none. A name that leads
    out of the folder (absolute, `..`, a symlink out) is refused: a downloaded dataset must not widen what
    the agent can read."""
    root = folder.resolve()
    try:
        path = (root / name).resolve()
        confined = path.is_relative_to(root)
        found = confined and path.is_file()
    except (OSError, RuntimeError):  # a name too long for the file system, a symlink loop
        return None
    if not confined:
        raise ConfigError(f"{where}: {name!r} is outside the dataset's folder {root}; attachments and images must be inside it")
    return path if found else None


def image_ref(value: Any, folder: Path, where: str) -> str | None:
    """A dataset's image field as a data URI or an absolute file path; None when there is no image.
    Accepts a data URI, a path inside the dataset's folder, bare base64, or a parquet image struct
    ({"bytes": ..., "path": ...})."""
    if isinstance(value, dict):
        if value.get("bytes"):
            return _encoded(bytes(value["bytes"]), None, where)
        value = value.get("path")
    if not value or not isinstance(value, str):
        return None
    if value.startswith("data:image/"):
        if len(value) > MAX_IMAGE_BYTES * 4 // 3 + 100:
            raise ConfigError(f"{where}: image over the {MAX_IMAGE_BYTES // 1024} KiB limit")
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if _sniff(raw):  # bare base64 of an image (a JPEG's starts with "/9j/", so this comes before paths)
        return _encoded(raw, None, where)
    path = inside(folder, value, where) if len(value) < 4096 else None
    if path is None:
        raise ConfigError(f"{where}: image {value[:60]!r} is no file in {folder}, data URI or base64 image")
    return str(path)


def data_uri(ref: str) -> str:
    """An image ref (see `image_ref`) as a data URI, read from disk if it is a path."""
    if ref.startswith("data:"):
        return ref
    path = Path(ref)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"image {path}: {exc.strerror}") from exc
    return _encoded(raw, mimetypes.guess_type(path.name)[0], str(path))

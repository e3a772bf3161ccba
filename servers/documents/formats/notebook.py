"""Jupyter notebooks (.ipynb) to markdown: markdown cells as is, code cells fenced, text outputs after them."""

from __future__ import annotations

import json

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.formats.text import decode_text
from memento_servers.documents.model import Document

MAX_OUTPUT_CHARS = 2000


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _output(output: dict) -> str:
    if output.get("output_type") == "stream":
        text = _text(output.get("text"))
    elif output.get("output_type") == "error":
        text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    else:
        data = output.get("data") or {}
        text = _text(data.get("text/plain")) or ("(image output)" if any(k.startswith("image/") for k in data) else "")
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + "\n... (output truncated)"
    return f"Output:\n```\n{text.rstrip()}\n```" if text.strip() else ""


def convert(data: bytes, context: Context) -> Document:
    try:
        notebook = json.loads(decode_text(data, context.charset))
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptDocument(f"not a valid Jupyter notebook ({exc})") from exc
    meta = notebook.get("metadata") or {}
    language = (meta.get("kernelspec") or {}).get("language") or (meta.get("language_info") or {}).get("name") or "python"
    parts = []
    for cell in cells:
        source = _text(cell.get("source")).rstrip()
        kind = cell.get("cell_type")
        if kind == "code":
            parts.append(f"```{language}\n{source}\n```")
            parts.extend(filter(None, map(_output, cell.get("outputs") or [])))
        elif source:
            parts.append(source)
    markdown = "\n\n".join(parts)
    title = meta.get("title") or next((line[2:].strip() for line in markdown.splitlines() if line.startswith("# ")), None)
    return Document(markdown=markdown, format="ipynb", title=title, metadata={"language": language, "cells": len(cells)})

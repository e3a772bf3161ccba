"""Structured data (JSON, JSONL, YAML, XML) as pretty, fenced text; RSS and Atom feeds as articles."""

from __future__ import annotations

import json

from lxml import etree

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.formats.html import html_to_markdown
from memento_servers.documents.formats.text import decode_text
from memento_servers.documents.model import Document

PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)
ATOM = "{http://www.w3.org/2005/Atom}"
MAX_STRING = 2000


def _short(value):
    """Long strings inside data are cut, so one field cannot flood the output."""
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + f"... ({len(value) - MAX_STRING} more characters)"
    if isinstance(value, list):
        return [_short(v) for v in value]
    if isinstance(value, dict):
        return {k: _short(v) for k, v in value.items()}
    return value


def _json(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise CorruptDocument(f"invalid JSON: {exc}") from exc
    return "```json\n" + json.dumps(_short(value), indent=2, ensure_ascii=False) + "\n```"


def _jsonl(text: str, context: Context) -> tuple[str, list[str]]:
    records, warnings = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(records) >= context.limits.max_rows:
            warnings.append(f"only the first {context.limits.max_rows} records were read (row limit)")
            break
        try:
            records.append(json.dumps(_short(json.loads(line)), ensure_ascii=False))
        except ValueError:
            warnings.append(f"line {number} is not valid JSON; shown as text")
            records.append(line)
    return "```jsonl\n" + "\n".join(records) + "\n```", warnings


def _yaml(text: str) -> tuple[str, list[str]]:
    import yaml

    try:
        list(yaml.safe_load_all(text))
        warnings = []
    except yaml.YAMLError as exc:
        warnings = [f"the YAML does not parse ({str(exc).splitlines()[0]}); shown as text"]
    return "```yaml\n" + text.strip() + "\n```", warnings


def _text(element, path: str) -> str:
    found = element.find(path)
    return "".join(found.itertext()).strip() if found is not None else ""


def _html(fragment: str) -> str:
    return html_to_markdown(fragment).markdown if "<" in fragment else fragment


def _feed(root) -> tuple[str, str | None] | None:
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            return None
        title, items = _text(channel, "title"), channel.findall("item")
        parts = [f"# {title}", _html(_text(channel, "description"))]
        for item in items:
            parts.append(f"## {_text(item, 'title')}")
            if _text(item, "pubDate"):
                parts.append(f"Published on: {_text(item, 'pubDate')}")
            content = _text(item, "{http://purl.org/rss/1.0/modules/content/}encoded") or _text(item, "description")
            parts.append(_html(content))
        return "\n\n".join(p for p in parts if p), title
    if root.tag == f"{ATOM}feed":
        title = _text(root, f"{ATOM}title")
        parts = [f"# {title}", _html(_text(root, f"{ATOM}subtitle"))]
        for entry in root.findall(f"{ATOM}entry"):
            parts.append(f"## {_text(entry, f'{ATOM}title')}")
            if _text(entry, f"{ATOM}updated"):
                parts.append(f"Updated on: {_text(entry, f'{ATOM}updated')}")
            parts.append(_html(_text(entry, f"{ATOM}content") or _text(entry, f"{ATOM}summary")))
        return "\n\n".join(p for p in parts if p), title
    return None


def _xml(data: bytes) -> tuple[str, str | None, str]:
    try:
        root = etree.fromstring(data, PARSER)
    except etree.XMLSyntaxError as exc:
        raise CorruptDocument(f"invalid XML: {exc}") from exc
    feed = _feed(root)
    if feed is not None:
        return feed[0], feed[1], "rss" if root.tag == "rss" else "atom"
    pretty = etree.tostring(root, pretty_print=True, encoding="unicode")
    return "```xml\n" + pretty.strip() + "\n```", None, "xml"


def convert(data: bytes, context: Context) -> Document:
    warnings: list[str] = []
    title = None
    fmt = context.format
    if fmt == "xml":
        markdown, title, fmt = _xml(data)
    else:
        text = decode_text(data, context.charset)
        if fmt == "json":
            markdown = _json(text)
        elif fmt == "jsonl":
            markdown, warnings = _jsonl(text, context)
        else:
            markdown, warnings = _yaml(text)
    return Document(markdown=markdown, format=fmt, title=title, warnings=warnings)

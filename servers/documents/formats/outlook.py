"""Outlook messages (.msg, OLE compound files) to markdown: headers, then the plain-text body."""

from __future__ import annotations

import io

import olefile

from memento_servers.documents.context import Context
from memento_servers.documents.errors import CorruptDocument
from memento_servers.documents.model import Document

PROPERTIES = {"subject": "0037", "from": "0C1F", "from_name": "0C1A", "to": "0E04", "cc": "0E03", "date": "0039", "body": "1000"}


def _property(ole: olefile.OleFileIO, code: str) -> str | None:
    for kind, encoding in (("001F", "utf-16-le"), ("001E", "cp1252")):
        stream = f"__substg1.0_{code}{kind}"
        if ole.exists(stream):
            return ole.openstream(stream).read().decode(encoding, errors="replace").rstrip("\x00").strip()
    return None


def convert(data: bytes, context: Context) -> Document:
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except OSError as exc:
        raise CorruptDocument(f"the Outlook message is damaged ({exc})") from exc
    values = {key: _property(ole, code) for key, code in PROPERTIES.items()}
    sender = values["from"] or values["from_name"]
    lines = ["# Email Message", ""]
    for label, value in (("From", sender), ("To", values["to"]), ("Cc", values["cc"]), ("Subject", values["subject"])):
        if value:
            lines.append(f"**{label}:** {value}")
    lines += ["", "## Content", "", (values["body"] or "").replace("\r\n", "\n")]
    metadata = {k: v for k, v in values.items() if v and k != "body"}
    return Document(markdown="\n".join(lines).strip(), format="msg", title=values["subject"], metadata=metadata)

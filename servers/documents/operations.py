"""What a worker process can be asked to do, as plain functions of JSON arguments and raw bytes."""

from __future__ import annotations

from typing import Any

from memento_servers.documents import convert as converter
from memento_servers.documents.formats import html, pdf  # noqa: F401  (imported to warm the worker)
from memento_servers.documents.model import Limits
from memento_servers.documents.outline import pdf_summary
from memento_servers.documents.render import render_pdf_page


def run(op: str, args: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
    limits = Limits.model_validate(args.get("limits") or {})
    if op == "convert":
        document = converter.convert_bytes(
            payload, filename=args.get("filename"), content_type=args.get("content_type"), url=args.get("url"),
            limits=limits, pages=args.get("pages"), keep_data_uris=bool(args.get("keep_data_uris")),
        )
        return {"ok": True}, document.model_dump_json().encode()
    if op == "pdf_summary":
        return {"summary": pdf_summary(payload)}, b""
    if op == "render_page":
        return render_pdf_page(payload, args["page"], args["dpi"], args["max_pixels"])
    raise ValueError(f"unknown operation {op!r}")

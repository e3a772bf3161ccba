"""What crawl's worker processes do: HTML extraction, image decoding and document conversion, as plain functions
of JSON and bytes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from memento_servers.crawl.extract import extract_html
from memento_servers.crawl.images import prepare
from memento_servers.documents import operations as documents


def run(op: str, args: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes]:
    if op == "extract_html":
        return {"ok": True}, json.dumps(asdict(extract_html(args.get("text") or payload, args["url"]))).encode()
    if op == "prepare_image":
        return prepare(payload, args["max_side"], args["max_pixels"])
    return documents.run(op, args, payload)

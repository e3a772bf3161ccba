"""Turning a kernel's output messages into one bounded result: streams, value, error, images."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_IMAGES = 8


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a marker saying how much was dropped."""
    if len(text) <= limit:
        return text
    dropped = len(text) - limit
    return text[:limit] + f"\n...[truncated {dropped} characters: write large output to a file and page it with read_file]"


def trim_traceback(frames: list[str]) -> str:
    """The user's part of an IPython traceback: the frames in their cells and the final line."""
    clean = [ANSI.sub("", frame).rstrip() for frame in frames]
    kept = [frame for frame in clean[:-1] if "Cell In[" in frame or frame.lstrip().startswith("File <")]
    return "\n".join([*kept, clean[-1]] if clean else [])


@dataclass
class ErrorInfo:
    type: str
    message: str
    traceback: str


@dataclass
class Collected:
    """Everything one execution printed, returned or raised."""

    limit: int
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    value: str | None = None
    error: ErrorInfo | None = None
    images: list[str] = field(default_factory=list)  # base64 PNG

    def add(self, msg_type: str, content: dict) -> None:
        if msg_type == "stream":
            (self.stdout if content.get("name") == "stdout" else self.stderr).append(content.get("text", ""))
        elif msg_type in ("execute_result", "display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                if len(self.images) < MAX_IMAGES:
                    self.images.append(data["image/png"].strip())
            elif msg_type == "execute_result":
                self.value = data.get("text/plain")
            elif "text/plain" in data:
                self.stdout.append(data["text/plain"] + "\n")
        elif msg_type == "error":
            self.error = ErrorInfo(
                type=content.get("ename", "Error"),
                message=content.get("evalue", ""),
                traceback=truncate(trim_traceback(content.get("traceback", [])), self.limit),
            )

    def text(self, name: str) -> str:
        return truncate("".join(getattr(self, name)), self.limit)

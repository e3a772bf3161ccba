"""Turning a kernel's output messages into one bounded result: streams, value, error, images."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import IO

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_IMAGES = 8


def _marked(text: str, dropped: int) -> str:
    return text + f"\n...[truncated {dropped} characters: write large output to a file and page it with read_file]"


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with a marker saying how much was dropped."""
    if len(text) <= limit:
        return text
    return _marked(text[:limit], len(text) - limit)


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


class Capped:
    """A text stream that keeps its first `limit` characters and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def append(self, text: str) -> None:
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))

    def render(self) -> str:
        text = "".join(self.parts)
        return _marked(text, self.dropped) if self.dropped else text


@dataclass
class Collected:
    """Everything one execution printed, returned or raised, within `limit` characters per stream."""

    limit: int
    value: str | None = None
    error: ErrorInfo | None = None
    images: list[str] = field(default_factory=list)  # base64 PNG
    stdout: Capped = field(init=False)
    stderr: Capped = field(init=False)

    def __post_init__(self) -> None:
        self.stdout = Capped(self.limit)
        self.stderr = Capped(self.limit)

    def add(self, msg_type: str, content: dict) -> None:
        if msg_type == "stream":
            (self.stdout if content.get("name") == "stdout" else self.stderr).append(content.get("text", ""))
        elif msg_type in ("execute_result", "display_data"):
            data = content.get("data", {})
            if "image/png" in data:
                if len(self.images) < MAX_IMAGES:
                    self.images.append(data["image/png"].strip())
            elif msg_type == "execute_result":
                self.value = truncate(data.get("text/plain", ""), self.limit)
            elif "text/plain" in data:
                self.stdout.append(data["text/plain"] + "\n")
        elif msg_type == "error":
            self.error = ErrorInfo(
                type=content.get("ename", "Error"),
                message=truncate(content.get("evalue", ""), self.limit),
                traceback=truncate(trim_traceback(content.get("traceback", [])), self.limit),
            )


class LogTail:
    """What a process writes to its stdout/stderr, read from a pipe by a thread: only the last `keep` bytes
    stay on the host (in memory), so output printed at the file-descriptor level cannot fill any disk."""

    def __init__(self, pipe: IO[bytes], keep: int = 16_384):
        self.keep = keep
        self.tail = bytearray()
        self.dropped = 0
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: IO[bytes]) -> None:
        with pipe:
            while chunk := pipe.read1(65_536):
                self.tail += chunk
                if len(self.tail) > self.keep:
                    self.dropped += len(self.tail) - self.keep
                    del self.tail[: len(self.tail) - self.keep]

    def lines(self, wait_s: float = 0.5) -> list[str]:
        """The kept lines (waiting briefly for the writer's last words), a note first if some were dropped."""
        self._thread.join(wait_s)
        lines = [line for line in bytes(self.tail).decode(errors="replace").splitlines() if line.strip()]
        return [f"[{self.dropped} earlier bytes dropped]", *lines] if self.dropped else lines

"""Keeping a conversation inside its size budget without breaking it."""

from __future__ import annotations

from typing import Any

IMAGE_CHARS = 2000  # what an image part counts for against the budget (not the length of its data URI)


def message_chars(message: dict[str, Any]) -> int:
    content = message.get("content") or ""
    if isinstance(content, list):  # content parts: text counts by length, an image by IMAGE_CHARS
        size = sum(len(part.get("text") or "") if part.get("type") == "text" else IMAGE_CHARS for part in content)
    else:
        size = len(str(content))
    for call in message.get("tool_calls") or []:
        size += len(call["function"]["name"]) + len(call["function"]["arguments"] or "")
    return size


def _exchanges(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Messages grouped so that every tool reply stays with the assistant message that called it."""
    groups: list[list[dict[str, Any]]] = []
    for message in messages:
        if message.get("role") == "tool" and groups:
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups


def trim_messages(messages: list[dict[str, Any]], max_chars: int, keep_head: int = 2) -> list[dict[str, Any]]:
    """Drop the oldest exchanges until the conversation fits `max_chars`.

    The first `keep_head` messages (system prompt and task) and the latest exchange always
    stay; an assistant message and its tool replies are dropped together, so no tool
    message is ever orphaned. A short note says how many exchanges were dropped.
    """
    head, groups = messages[:keep_head], _exchanges(messages[keep_head:])
    total = sum(message_chars(m) for m in messages)
    if total <= max_chars:
        return messages
    dropped = 0
    while total > max_chars and len(groups) > 1:
        total -= sum(message_chars(m) for m in groups.pop(0))
        dropped += 1
    note = {"role": "user", "content": f"[{dropped} earlier exchange(s) removed to fit the context budget]"}
    return [*head, note, *(m for group in groups for m in group)]

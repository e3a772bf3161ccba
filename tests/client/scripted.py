"""A scripted agent model for the fake OpenAI server: answers planner and executor requests by their content.

    fake.responder = AgentScript(answers={"What is 2+3?": "5"}, tool=("toy__add", {"a": 2, "b": 3}))

Planner, first request: a one-subtask plan. Executor: the scripted tool call, then a result.
Planner, once results are reported: the final answer looked up by task. Order-independent, so
it serves concurrent tasks (eval) as well as single ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.openai_server import RecordedRequest, Reply, content_text, text_reply, tool_call_reply


def plan_json(*subtasks: str, thought: str = "plan") -> str:
    return json.dumps({"thought": thought, "plan": [{"id": i, "description": s} for i, s in enumerate(subtasks, 1)], "final_answer": None})


def answer_json(answer: str) -> str:
    return json.dumps({"thought": "done", "plan": [], "final_answer": answer})


def role_of(request: RecordedRequest) -> str:
    system = content_text(request.messages[0].get("content")) if request.messages else ""
    if "planner of a research agent" in system:
        return "planner"
    if "executor of a research agent" in system:
        return "executor"
    return "judge"


def task_of(request: RecordedRequest) -> str:
    for message in request.messages:
        content = content_text(message.get("content"))
        if match := re.search(r"(?:Overall task|Task): (.+)", content):
            return match.group(1).strip()
    return ""


@dataclass
class AgentScript:
    answers: dict[str, str] = field(default_factory=dict)
    tool: tuple[str, dict[str, Any]] | None = None

    def __call__(self, request: RecordedRequest) -> Reply:
        role, task = role_of(request), task_of(request)
        if role == "planner":
            reported = any("Results of cycle" in str(m.get("content")) for m in request.messages)
            return text_reply(answer_json(self.answers.get(task, "unknown")) if reported else plan_json(f"find: {task}"))
        if role == "executor":
            used_tool = any(m.get("role") == "tool" for m in request.messages)
            if self.tool and not used_tool:
                return tool_call_reply(self.tool)
            return text_reply(f"found: {self.answers.get(task, 'nothing')}")
        gold = re.search(r"Gold answers: (.*)", request.text())
        predicted = re.search(r"Predicted answer: (.*)", request.text())
        correct = bool(gold and predicted and predicted.group(1).strip().lower() in gold.group(1).lower())
        return text_reply(json.dumps({"correct": correct}))

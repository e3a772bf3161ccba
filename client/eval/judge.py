"""The LLM judge: is an answer correct (against gold answers when known)? The paper's PM metric."""

from __future__ import annotations

from collections.abc import Sequence

from memento_client.errors import LLMError
from memento_client.llm import LLM, Usage
from memento_client.loop.planner import extract_json

WITH_GOLD = """Decide whether the predicted answer to the question means the same as any of the gold answers (same entity, number or fact; wording, detail and formatting may differ).
Question: {question}
Gold answers: {gold}
Predicted answer: {answer}
Reply with only JSON: {{"correct": true}} or {{"correct": false}}"""

WITHOUT_GOLD = """Decide whether the answer fully and correctly answers the task, as far as you can tell.
Task: {question}
Answer: {answer}
Reply with only JSON: {{"correct": true}} or {{"correct": false}}"""


async def judge(llm: LLM, usage: Usage, question: str, answer: str | None, gold: Sequence[str] | None = None) -> float | None:
    """1.0 or 0.0; None when no judge model is configured or its verdict is unreadable."""
    if llm.config.model_for("judge") is None:
        return None
    if not answer:
        return 0.0
    prompt = (WITH_GOLD if gold else WITHOUT_GOLD).format(question=question, gold=" | ".join(gold or []), answer=answer)
    try:
        reply = await llm.complete("judge", [{"role": "user", "content": prompt}], usage=usage)
        verdict = extract_json(reply.content or "").get("correct")
    except (LLMError, ValueError):
        return None
    return float(verdict) if isinstance(verdict, bool) else None

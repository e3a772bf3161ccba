"""The model layer, and the only module that imports `openai`: any OpenAI-compatible endpoint.

`LLM.complete(role, messages, usage=...)` picks the role's model, sends the request with the
right token-limit parameter for that model, retries 429/5xx/timeouts with backoff (honouring
Retry-After), adapts once when an endpoint rejects a parameter, and adds tokens and cost to
the run's `Usage`. Within `task_images(...)`, the planner's and executor's requests carry the task's
images as image parts (for models with image input).
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import anyio
import openai
from openai import AsyncOpenAI

from memento_client.config import ClientConfig, Role
from memento_client.errors import LLMError

log = logging.getLogger(__name__)

# Public list prices, USD per 1M tokens (prompt, completion); `prices` in the config adds or overrides.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5": (1.25, 10.00),
}
MAX_RETRY_DELAY_S = 60.0
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)  # reasoning some local models print inline
_TASK_IMAGES: ContextVar[tuple[str, ...]] = ContextVar("memento_task_images", default=())
_RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError)


def uses_max_completion_tokens(model: str) -> bool:
    """Reasoning models (o-series, gpt-5) take `max_completion_tokens`; the rest `max_tokens`."""
    return re.match(r"^(o\d|gpt-5)", model.rsplit("/", 1)[-1]) is not None


@dataclass
class Usage:
    """Tokens and cost of one run, in total and per role."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0  # calls to models without a known price (their cost counts as 0)
    by_role: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, role: str, prompt: int, completion: int, price: tuple[float, float] | None) -> None:
        self.calls += 1
        self.prompt_tokens += prompt
        self.completion_tokens += completion
        if price is None:
            self.unpriced_calls += 1
        else:
            self.cost_usd += (prompt * price[0] + completion * price[1]) / 1_000_000
        slot = self.by_role.setdefault(role, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0})
        slot["calls"] += 1
        slot["prompt_tokens"] += prompt
        slot["completion_tokens"] += completion

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "unpriced_calls": self.unpriced_calls,
            "by_role": self.by_role,
        }


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text, as the model wrote it

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ValueError with a message for the model when they are not."""
        try:
            value = json.loads(self.arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"arguments are not valid JSON ({exc.msg} at char {exc.pos}); send a JSON object") from exc
        if not isinstance(value, dict):
            raise ValueError("arguments must be a JSON object")
        return value


@dataclass
class Completion:
    content: str | None
    tool_calls: list[ToolCall]
    finish_reason: str | None

    def as_message(self) -> dict[str, Any]:
        """The assistant message to append to the conversation."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return message


@contextmanager
def task_images(images: Sequence[str]) -> Iterator[None]:
    """Show `images` (data URIs) to the model in every planner and executor request made inside this
    block (one task: the value is local to the running async task)."""
    token = _TASK_IMAGES.set(tuple(images))
    try:
        yield
    finally:
        _TASK_IMAGES.reset(token)


def current_task_images() -> tuple[str, ...]:
    """The images `task_images` set for the running task (to hand them on to another process)."""
    return _TASK_IMAGES.get()


def with_images(messages: list[dict[str, Any]], images: Sequence[str]) -> list[dict[str, Any]]:
    """`messages` with the images appended to the first user message as OpenAI `image_url` parts."""
    first = next((n for n, m in enumerate(messages) if m.get("role") == "user"), None)
    if first is None or not images:
        return messages
    message = messages[first]
    parts = [{"type": "text", "text": message.get("content") or ""}]
    parts += [{"type": "image_url", "image_url": {"url": uri}} for uri in images]
    return [*messages[:first], {**message, "content": parts}, *messages[first + 1 :]]


def _retry_delay(exc: Exception, attempt: int) -> float:
    response = getattr(exc, "response", None)
    headers = response.headers if response is not None else {}
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return min(float(ms) / 1000, MAX_RETRY_DELAY_S)
        except ValueError:
            pass
    if (value := headers.get("retry-after")) is not None:
        try:
            return min(max(float(value), 0.0), MAX_RETRY_DELAY_S)
        except ValueError:
            if (when := email.utils.parsedate_to_datetime(value)) is not None:
                return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_DELAY_S)
    return min(0.5 * 2**attempt, 30.0) * (1 + random.random() / 4)


class LLM:
    """Chat completions for the planner, executor and judge roles."""

    def __init__(self, config: ClientConfig, client: AsyncOpenAI | None = None):
        self.config = config
        self.client = client or AsyncOpenAI(
            api_key=config.resolved_api_key() or "not-needed",  # local servers ignore the key
            base_url=config.resolved_base_url(),
            timeout=config.request_timeout_s,
            max_retries=0,  # retries are ours, so they are visible and honour our budget
        )
        self.prices = {**PRICES, **{k: (v[0], v[1]) for k, v in config.prices.items()}}
        self._token_param: dict[str, str] = {}
        self._no_json_schema: set[str] = set()

    async def aclose(self) -> None:
        await self.client.close()

    def price(self, model: str) -> tuple[float, float] | None:
        name = model.rsplit("/", 1)[-1]
        matches = [key for key in self.prices if name == key or name.startswith(key + "-")]
        return self.prices[max(matches, key=len)] if matches else None

    def model(self, role: Role) -> str:
        model = self.config.model_for(role)
        if model is None:
            raise LLMError(f"no model configured for the {role} role")
        return model

    async def complete(
        self,
        role: Role,
        messages: list[dict[str, Any]],
        *,
        usage: Usage,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        model = self.model(role)
        param = self._token_param.get(model) or (
            "max_completion_tokens" if uses_max_completion_tokens(model) else "max_tokens"
        )
        if role != "judge" and (images := _TASK_IMAGES.get()):
            messages = with_images(messages, images)
        request: dict[str, Any] = {"model": model, "messages": messages, param: self.config.completion_tokens}
        if tools:
            request["tools"] = tools
            if tool_choice:
                request["tool_choice"] = tool_choice
        if json_schema is not None and model not in self._no_json_schema:
            request["response_format"] = {"type": "json_schema", "json_schema": json_schema}
        if self.config.temperature is not None:
            request["temperature"] = self.config.temperature
        response = await self._send(request)
        if response.usage is not None:
            usage.add(role, response.usage.prompt_tokens or 0, response.usage.completion_tokens or 0, self.price(model))
        else:
            usage.add(role, 0, 0, self.price(model))
        if not response.choices:
            raise LLMError(f"{model} returned no choices")
        choice = response.choices[0]
        calls = [
            ToolCall(c.id, c.function.name, c.function.arguments or "")
            for c in (choice.message.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        content = choice.message.content
        if content and "<think>" in content:
            content = _THINKING.sub("", content).strip()
        return Completion(content, calls, choice.finish_reason)

    async def _send(self, request: dict[str, Any]) -> Any:
        adapted = False
        attempt = 0
        where = f"{request['model']} at {self.client.base_url}"  # errors name the endpoint: the usual fix is there
        while True:
            try:
                # The body goes out as `extra_body` (it wins over the typed arguments): it is already wire JSON,
                # and the SDK's recursive transform of typed messages and tool schemas costs milliseconds per call.
                body = {k: v for k, v in request.items() if k != "model"}
                return await self.client.chat.completions.create(model=request["model"], messages=[], extra_body=body)
            except _RETRYABLE as exc:
                if attempt >= self.config.retries:
                    raise LLMError(f"{where}: {_describe(exc)} (after {attempt + 1} attempts)") from exc
                delay = _retry_delay(exc, attempt)
                log.warning("%s: %s; retrying in %.1fs", request["model"], _describe(exc), delay)
                attempt += 1
                await anyio.sleep(delay)
            except openai.BadRequestError as exc:
                if adapted or not self._adapt(request, str(exc)):
                    raise LLMError(f"{where} rejected the request: {_describe(exc)}") from exc
                adapted = True
            except openai.APIStatusError as exc:
                raise LLMError(f"{where}: {_describe(exc)}") from exc

    def _adapt(self, request: dict[str, Any], message: str) -> bool:
        """Change the one parameter the endpoint rejected; False when there is nothing to change."""
        model = request["model"]
        if "response_format" in request and ("response_format" in message or "json_schema" in message):
            del request["response_format"]
            self._no_json_schema.add(model)
            return True
        for old, new in (("max_tokens", "max_completion_tokens"), ("max_completion_tokens", "max_tokens")):
            if old in request and old in message:
                request[new] = request.pop(old)
                self._token_param[model] = new
                return True
        return False


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"HTTP {status}: {text}" if status else text

"""The client's settings: flags > environment (`MEMENTO_CLIENT_*`, then `OPENAI_*`) > `[client]` in the
TOML config file > defaults. Read once by the CLI and passed down."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from memento_client.errors import NoModelError
from memento_core import paths
from memento_core.settings import COMMON_FIELDS, load_settings

Role = Literal["planner", "executor", "judge"]
MemoryPolicy = Literal["off", "similarity", "learned"]
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

NO_MODEL_HELP = """memento needs an OpenAI-compatible model endpoint, and none is configured. Point it at one:

  OpenAI     export OPENAI_API_KEY=sk-...          (model: {default}; change with --model)
  Ollama     export OPENAI_BASE_URL=http://localhost:11434/v1 MEMENTO_CLIENT_MODEL=qwen2.5:7b-instruct
  vLLM       export OPENAI_BASE_URL=http://localhost:8000/v1  MEMENTO_CLIENT_MODEL=<served model name>
  llama.cpp  export OPENAI_BASE_URL=http://localhost:8080/v1  MEMENTO_CLIENT_MODEL=local

or pass --base-url/--model, or set base_url and model under [client] in {config_file}.
Roles can use different models: --planner-model, --executor-model, --judge-model."""


class ClientConfig(BaseModel):
    """Every knob of the agent client; env `MEMENTO_CLIENT_<FIELD>`, TOML `[client]`."""

    model_config = ConfigDict(extra="forbid", validate_default=True)  # a misspelt key is an error, as in the servers

    model: str | None = Field(None, description="Model for every role unless a role names its own.")
    planner_model: str | None = Field(None, description="Model of the planner.")
    executor_model: str | None = Field(None, description="Model of the executor.")
    judge_model: str | None = Field(None, description="Model of the LLM judge (PM metric, reward without gold); unset: no judge.")
    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (else OPENAI_BASE_URL, else OpenAI).")
    api_key: SecretStr | None = Field(None, description="API key (else OPENAI_API_KEY).")
    mcp_config: Path | None = Field(None, description="mcp.json to use (else ./mcp.json, else the embedded default).")
    memory: MemoryPolicy = Field("similarity", description="Case retrieval policy: off, similarity or learned.")
    cases_k: int = Field(4, ge=0, le=32, description="Cases retrieved for the planner.")
    cases_temperature: float = Field(
        0.0, ge=0, le=10, description="learned memory only: > 0 samples the cases (exploration), 0 takes the best."
    )
    max_cycles: int = Field(3, ge=1, le=20, description="Plan-execute cycles; the last must answer.")
    max_subtasks: int = Field(5, ge=1, le=20, description="Subtasks per plan (extra ones are dropped).")
    max_steps_per_subtask: int = Field(8, ge=1, le=100, description="Executor model calls per subtask.")
    max_steps: int = Field(60, ge=1, description="Model calls per task, all roles.")
    max_tokens: int = Field(400_000, ge=1000, description="Tokens (prompt + completion) per task.")
    max_wall_s: float = Field(600.0, gt=0, description="Wall time per task, seconds.")
    max_cost_usd: float = Field(2.0, gt=0, description="Cost per task in USD (models with a known price).")
    completion_tokens: int = Field(2048, ge=16, description="Completion token limit per model call.")
    tool_output_chars: int = Field(6000, ge=200, description="Tool output kept per call; the rest is cut with a note.")
    context_chars: int = Field(60_000, ge=2000, description="Executor context size before old tool steps are trimmed.")
    stuck_repeats: int = Field(3, ge=2, description="The same tool call this many times ends the subtask.")
    request_timeout_s: float = Field(120.0, gt=0, description="Timeout of one model request.")
    tool_timeout_s: float = Field(120.0, gt=0, description="Timeout of one tool call.")
    retries: int = Field(4, ge=0, le=10, description="Retries of a model request on 429/5xx/timeouts.")
    temperature: float | None = Field(None, ge=0, le=2, description="Sampling temperature (unset: the endpoint's).")
    vision: bool = Field(False, description="The model takes image input: tasks' images (memento eval) and tools' images are sent to it.")
    structured_output: bool = Field(True, description="Ask for JSON-schema output for plans where supported.")
    tools_deny: list[str] = Field(default_factory=list, description="Tool patterns to hide, e.g. 'crawl__*'.")
    prices: dict[str, list[float]] = Field(
        default_factory=dict, description="USD per 1M tokens [prompt, completion] by model, added to the built-in table."
    )

    @model_validator(mode="before")
    @classmethod
    def _without_the_servers_common_keys(cls, values: Any) -> Any:
        """The config file's top-level keys (transport, token, log_level...) are the servers', not the client's."""
        return {k: v for k, v in values.items() if k not in COMMON_FIELDS} if isinstance(values, dict) else values

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY") or None

    def model_for(self, role: Role) -> str | None:
        """The model a role uses, or None when none is configured."""
        if role == "judge":  # opt-in: judging costs a model call per task
            return self.judge_model
        own = {"planner": self.planner_model, "executor": self.executor_model}[role]
        if own or self.model:
            return own or self.model
        if self.resolved_api_key() and not self.resolved_base_url():
            return DEFAULT_OPENAI_MODEL
        return None

    def require_models(self) -> None:
        """Raise `NoModelError` (with setup help) unless the planner and executor have a model."""
        if self.model_for("planner") is None or self.model_for("executor") is None:
            raise NoModelError(NO_MODEL_HELP.format(default=DEFAULT_OPENAI_MODEL, config_file=paths.config_file()))


def with_served_model(config: ClientConfig) -> ClientConfig:
    """An endpoint but no model: the endpoint's only model (said on stderr); several or none: a one-line
    error listing them or naming the endpoint. Otherwise `config` as it is."""
    url = config.resolved_base_url()
    if url is None or (config.model_for("planner") and config.model_for("executor")):
        return config
    import openai

    key = config.resolved_api_key() or "not-needed"
    try:
        with openai.OpenAI(base_url=url, api_key=key, timeout=10, max_retries=0) as client:
            served = [model.id for model in client.models.list()]
    except openai.OpenAIError as exc:
        raise NoModelError(f"no model configured, and listing the models at {url} failed ({exc}): pass --model") from exc
    if len(served) != 1:
        listed = ", ".join(served[:20]) or "none"
        raise NoModelError(f"no model configured; {url} serves {listed}: choose one with --model or MEMENTO_CLIENT_MODEL")
    print(f"memento: using {served[0]}, the one model served at {url} (--model to choose another)", file=sys.stderr)
    return config.model_copy(update={"model": served[0]})


def load_config(cli: dict[str, Any], config_file: Path | None = None) -> ClientConfig:
    """Layer CLI values (None means unset) over env, the TOML file and defaults."""
    explicit = config_file is not None
    path = config_file or paths.config_file()
    given = {k: v for k, v in cli.items() if v is not None}
    return load_settings(ClientConfig, "client", given, path, explicit_file=explicit)  # type: ignore[type-var]

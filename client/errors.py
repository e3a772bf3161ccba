"""Errors of the agent client, and who sees each.

    MementoError (core)        anything the user can fix; `memento` prints it and exits 2
    ├── ConfigError (core)     bad flags, environment, config file, mcp.json or dataset
    │   └── NoModelError       no model endpoint configured (the message shows how to set one)
    └── ClientError
        ├── HostError          an MCP server could not be started or reached
        └── LLMError           the model endpoint failed after retries, or rejected the request
    BudgetExceeded             a run hit a budget (steps, tokens, wall time, cost); the loop stops
                               and the planner answers with what it has; never reaches the user
    PlanError                  the planner's reply was not a valid plan even after one repair
"""

from __future__ import annotations

from memento_core.errors import ConfigError, MementoError


class ClientError(MementoError):
    """A problem of the client's own (servers, model endpoint) the user can fix; the message says how."""


class NoModelError(ConfigError):
    """No model endpoint is configured."""


class HostError(ClientError):
    """An MCP server could not be started or reached."""


class LLMError(ClientError):
    """The model endpoint failed after retries, or rejected the request."""


class BudgetExceeded(Exception):
    """A run's budget is spent; `kind` is steps, tokens, wall_time or cost."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind} budget exceeded: {detail}")
        self.kind = kind


class PlanError(Exception):
    """The planner's reply could not be read as a plan, even after one repair attempt."""

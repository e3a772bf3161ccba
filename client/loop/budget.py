"""A task's budgets: model calls, tokens, wall time and cost, checked before every model call."""

from __future__ import annotations

import time

from memento_client.config import ClientConfig
from memento_client.errors import BudgetExceeded
from memento_client.llm import Usage


class Budget:
    def __init__(self, config: ClientConfig, usage: Usage):
        self.config = config
        self.usage = usage
        self.started = time.monotonic()

    def check(self) -> None:
        """Raise `BudgetExceeded` when any budget is spent."""
        c, u = self.config, self.usage
        if u.calls >= c.max_steps:
            raise BudgetExceeded("steps", f"{u.calls} model calls (max_steps={c.max_steps})")
        if u.total_tokens >= c.max_tokens:
            raise BudgetExceeded("tokens", f"{u.total_tokens} tokens (max_tokens={c.max_tokens})")
        if (elapsed := time.monotonic() - self.started) >= c.max_wall_s:
            raise BudgetExceeded("wall_time", f"{elapsed:.0f}s (max_wall_s={c.max_wall_s:g})")
        if u.cost_usd >= c.max_cost_usd:
            raise BudgetExceeded("cost", f"${u.cost_usd:.4f} (max_cost_usd={c.max_cost_usd:g})")

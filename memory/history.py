"""The transitions as the learned policy remembers them: rewards, held-out predictions and provenance,
oldest first, with the gate and the utilities built from them.

Built in full from the transitions table when another process changed it, and extended in place
by this process's own writes (reading the table back after every write would cost O(transitions)).
Only the latest 2 x `gate_window` rows are kept: the gate looks no further back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from memento_memory.config import BankConfig
from memento_memory.gate import gate_state
from memento_memory.models import CaseProvenance, CaseUse, GateState
from memento_memory.utility import Utilities

if TYPE_CHECKING:
    from memento_memory.store import CaseStore


class History:
    def __init__(self, config: BankConfig, case_reward: Callable[[str], float]):
        self.config = config
        self.case_reward = case_reward
        self.rewards: list[float] = []
        self.learned: list[float] = []
        self.prior: list[float] = []
        self.groups: list[str] = []
        self.seen = 0  # rows ever added (names the groups of rows without provenance)
        self.utilities = Utilities(config.utility_rate, config.credit_depth, config.credit_decay)
        self.gate = GateState(open=False, tasks=0, reason="no transitions yet")

    @classmethod
    def of(cls, rows: pa.Table, config: BankConfig, case_reward: Callable[[str], float]) -> History:
        """The history of a transitions table (`store.read_transition_log()`)."""
        history = cls(config, case_reward)
        flags = [flag for flag in rows.column("gate_open").to_pylist() if flag is not None]
        history.gate = history.gate.model_copy(update={"open": bool(flags and flags[-1])})
        history.extend(*(rows.column(name).to_pylist() for name in ("case_id", "reward", "from_case", "p_learned", "p_prior")))
        return history

    def extend(
        self,
        case_ids: Sequence[str],
        rewards: Sequence[float],
        written: Sequence[str],
        learned: Sequence[float | None],
        prior: Sequence[float | None],
    ) -> None:
        """Add transitions in the order they happened (the transitions of one task adjacent), recorded while
        the gate was as it is now; the gate then moves on from that state."""
        self.rewards += list(rewards)
        self.learned += [np.nan if p is None else p for p in learned]
        self.prior += [np.nan if p is None else p for p in prior]
        self.groups += [w or f"row-{self.seen + i}" for i, w in enumerate(written)]
        self.seen += len(written)
        kept = 2 * self.config.gate_window  # enough rows even if some were never scored
        for column in (self.rewards, self.learned, self.prior, self.groups):
            del column[:-kept]
        if self.config.utility_weight > 0:
            self._observe_tasks(case_ids, rewards, written)
        self.gate = gate_state(
            np.array(self.rewards, dtype=np.float64),
            np.array(self.learned, dtype=np.float64),
            np.array(self.prior, dtype=np.float64),
            np.array(self.groups, dtype=object),
            self.config.gate_window,
            self.config.gate_min_tasks,
            self.config.gate_confidence,
            self.gate.open,
        )

    def _observe_tasks(self, case_ids: Sequence[str], rewards: Sequence[float], written: Sequence[str]) -> None:
        tasks: list[tuple[str, list[str], float]] = []
        for case_id, reward, case in zip(case_ids, rewards, written):
            if case and tasks and tasks[-1][0] == case:
                tasks[-1][1].append(case_id)
            else:
                tasks.append((case, [case_id], reward))
        for case, retrieved, reward in tasks:
            self.utilities.observe(case, retrieved, reward, self.case_reward)


def case_provenance(store: CaseStore, case_id: str, limit: int) -> CaseProvenance:
    """The tasks that retrieved `case_id` (a validated id), newest first, at most `limit` of them."""
    rows = sorted(store.case_transitions(case_id).to_pylist(), key=lambda row: row["created_at"], reverse=True)
    uses = [
        CaseUse(**{**row, "reward": round(row["reward"], 6), "run_id": row["run_id"] or "", "from_case": row["from_case"] or ""})
        for row in rows[:limit]
    ]
    return CaseProvenance(case_id=case_id, total=len(rows), uses=uses)

"""Per-case utilities (MemRL-style) with credit along provenance (MemQ-style).

A case's utility is a running mean of the rewards of the tasks that retrieved it, recency-weighted:
U <- U + rate * (reward - U), so a case that used to help and now misleads loses its standing within
a few uses. A case starts at its own reward. With `depth` > 0, a reward also moves the utilities of
the cases that led to the retrieved ones: a retrieved case was written by a task that itself
retrieved cases (its provenance), and those get the update scaled by decay**d, d steps back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


class Utilities:
    """Utilities of cases, built from transitions in the order they happened."""

    def __init__(self, rate: float, depth: int = 0, decay: float = 0.5):
        self.rate = rate
        self.depth = depth
        self.decay = decay
        self.values: dict[str, float] = {}
        self.parents: dict[str, list[str]] = {}  # written case -> the cases its task retrieved

    def _move(self, case_id: str, reward: float, step: float, start: float) -> None:
        value = self.values.get(case_id, start)
        self.values[case_id] = value + step * (reward - value)

    def observe(self, written: str, retrieved: Sequence[str], reward: float, start: Callable[[str], float]) -> None:
        """A task written as case `written` used `retrieved` and earned `reward`; `start(id)`: a case's own reward."""
        frontier = list(dict.fromkeys(retrieved))
        seen = set(frontier)
        for d in range(self.depth + 1):
            for case_id in frontier:
                self._move(case_id, reward, self.rate * self.decay**d, start(case_id))
            frontier = [p for c in frontier for p in self.parents.get(c, ()) if p not in seen]
            seen.update(frontier)
        if written:
            self.parents[written] = list(retrieved)

    def of(self, case_ids: Iterable[str], rewards: Iterable[float]) -> list[float]:
        """Utilities of these cases; a case nobody used yet has its own reward."""
        return [self.values.get(c, r) for c, r in zip(case_ids, rewards)]

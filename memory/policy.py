"""Case selection: the paper's non-parametric (similarity) and parametric (learned) policies.

`similarity` keeps the top-k of the vector search. `learned` ranks a larger similarity shortlist:
by the scorer's Q(s, c) once the gate is open (`gate.py`), else by similarity, plus, when enabled,
each case's utility (`utility.py`); the parts are z-normalised over the shortlist before they are
mixed. With a temperature > 0 it samples k cases without replacement from softmax(score /
temperature) (Gumbel top-k), which explores around the ranking.
"""

from __future__ import annotations

import numpy as np

from memento_core.vectors import top_k

SHORTLIST_FACTOR = 8
MIN_SHORTLIST = 32


def shortlist_size(k: int) -> int:
    """How many similarity candidates the learned policy considers for k cases."""
    return max(MIN_SHORTLIST, SHORTLIST_FACTOR * k)


def standardised(values: np.ndarray) -> np.ndarray:
    """(values - mean) / std; all zeros when the values do not vary."""
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def ranking(similarity: np.ndarray, learned: np.ndarray | None, utility: np.ndarray | None, utility_weight: float) -> np.ndarray:
    """The learned policy's score per shortlisted case: the scorer's logit if the gate let it, else
    similarity, plus `utility_weight` times the utility, each standardised over the shortlist."""
    score = standardised(learned if learned is not None else similarity)
    if utility is not None and utility_weight > 0:
        score = score + utility_weight * standardised(utility)
    return score


def choose(scores: np.ndarray, k: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the k candidates to return, best first: greedy on scores, or Boltzmann-sampled."""
    if temperature > 0:
        picked = top_k(scores / temperature + rng.gumbel(size=len(scores)), k)
        return picked[np.argsort(-scores[picked], kind="stable")]
    return top_k(scores, k)


def split_by_reward(items: list, rewards: list[float], threshold: float) -> tuple[list, list]:
    """(positive, negative): items whose reward reaches `threshold`, and the rest, order kept."""
    positive = [item for item, reward in zip(items, rewards) if reward >= threshold]
    negative = [item for item, reward in zip(items, rewards) if reward < threshold]
    return positive, negative

"""Case selection: the paper's non-parametric (similarity) and parametric (learned) policies.

`similarity` keeps the top-k of the vector search. `learned` re-ranks a larger similarity
shortlist by the scorer's Q(s, c); with a temperature > 0 it samples k cases without
replacement from softmax(Q / temperature) (Gumbel top-k), which explores.
"""

from __future__ import annotations

import numpy as np

from memento_core.vectors import top_k

SHORTLIST_FACTOR = 8
MIN_SHORTLIST = 32


def shortlist_size(k: int) -> int:
    """How many similarity candidates the learned policy considers for k cases."""
    return max(MIN_SHORTLIST, SHORTLIST_FACTOR * k)


def choose(scores: np.ndarray, k: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of the k candidates to return, best first: greedy on scores, or Boltzmann-sampled."""
    if temperature > 0:
        logits = np.log(np.clip(scores, 1e-6, 1 - 1e-6) / np.clip(1 - scores, 1e-6, 1))
        perturbed = logits / temperature + rng.gumbel(size=len(scores))
        picked = top_k(perturbed, k)
        return picked[np.argsort(-scores[picked], kind="stable")]
    return top_k(scores, k)


def split_by_reward(items: list, rewards: list[float], threshold: float) -> tuple[list, list]:
    """(positive, negative): items whose reward reaches `threshold`, and the rest, order kept."""
    positive = [item for item, reward in zip(items, rewards) if reward >= threshold]
    negative = [item for item, reward in zip(items, rewards) if reward < threshold]
    return positive, negative

"""When the learned policy may change similarity's order: only once its residual predicts rewards
better than the similarity prior on transitions neither had trained on (prequential evaluation).

Every recorded transition carries the two success probabilities the scorer gave it just before
training on it. Over the latest `window` of them, grouped by the task that produced them (the
transitions of one retrieval share one reward), the gate opens when the learned head's mean
log-loss is lower than the prior's by more than `z` standard errors (`gate_confidence`), and closes
again when it is higher by as much (a changed world, a scorer that went astray).

The two thresholds differ on purpose: once the learned ranking shows mostly helpful cases, the
transitions it produces hold little contrast for either head, and "no longer clearly better" is then
no evidence of being worse; closing on it would hand the ranking back to similarity exactly when
the learned policy works.
"""

from __future__ import annotations

import numpy as np

from memento_memory.models import GateState


def _log_loss(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def gate_state(
    rewards: np.ndarray,
    learned: np.ndarray,
    prior: np.ndarray,
    groups: np.ndarray,
    window: int,
    min_tasks: int,
    z: float,
    was_open: bool,
) -> GateState:
    """The gate from transitions in time order (last = newest; rows without predictions are NaN),
    given whether it was open before them."""
    known = ~(np.isnan(learned) | np.isnan(prior))
    rewards, learned, prior, groups = (a[known][-window:] for a in (rewards, learned, prior, groups))
    if not len(rewards):
        return GateState(open=False, tasks=0, reason="no transitions scored before training yet")
    _, group = np.unique(groups, return_inverse=True)
    sizes = np.bincount(group)
    loss_learned = np.bincount(group, _log_loss(learned, rewards)) / sizes
    loss_prior = np.bincount(group, _log_loss(prior, rewards)) / sizes
    gain = loss_prior - loss_learned
    tasks = len(gain)
    error = float(gain.std(ddof=1) / np.sqrt(tasks)) if tasks > 1 else float("inf")
    mean = float(gain.mean())
    if tasks < min_tasks:
        opened, reason = False, f"{tasks} of the {min_tasks} held-out tasks needed"
    elif mean > z * error:
        opened, reason = True, "the learned scorer predicts held-out rewards better than similarity"
    elif mean < -z * error:
        opened, reason = False, "the learned scorer predicts held-out rewards worse than similarity"
    else:
        opened = was_open
        reason = "no clear difference on held-out rewards: " + ("stays open" if was_open else "similarity's order stands")
    return GateState(
        open=opened,
        tasks=tasks,
        loss_learned=round(float(loss_learned.mean()), 4),
        loss_prior=round(float(loss_prior.mean()), 4),
        reason=reason,
    )

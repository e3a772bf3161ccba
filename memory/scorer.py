"""The learned policy's Q(s, c): predicted success of planning task s with past case c.

Two heads share one network's input, the features [s, s*c, |s-c|, cos(s, c), reward(c)]:
- the *prior*, a logistic model of success on the task (a linear term in s, for how hard the task is),
  the similarity cos(s, c) and the case's reward: what similarity retrieval already knows;
- the *residual*, linear in the pair features and in the pair features times the case's reward
  (it can learn which parts of two tasks' likeness matter, for cases that worked and for cases that
  did not, but cannot memorise tasks), added to the prior's logit; it starts at zero, so an untrained
  scorer is the prior, and it trains on what the prior gets wrong. (A hidden layer overfitted: it
  predicted held-out rewards worse than this in the learning benchmark's transitions.)
Both train with binary cross-entropy on observed rewards, the prior on its own loss and the residual
on top of the detached prior. The gate (`gate.py`) compares the two on transitions neither has
trained on yet; only a residual that predicts better may change similarity's order.

Reads use a published copy of the network, so training never blocks them. The checkpoint (weights,
optimiser, steps, last loss) is written whole (`checkpoint.py`: a file, or an object beside an s3:// bank)
and other processes, on this machine or others, reload it when it changes.
"""

from __future__ import annotations

import copy
import io
import logging
import threading

import numpy as np

from memento_memory.checkpoint import Checkpoint

log = logging.getLogger(__name__)
WEIGHT_DECAY = 1e-2
LEARNING_RATE = 1e-3


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits (float64, so extreme logits do not overflow)."""
    return 1 / (1 + np.exp(-logits.astype(np.float64)))


def features(task: np.ndarray, cases: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """One feature row per case: task (n, dim) or (dim,), cases (n, dim), rewards (n,)."""
    tasks = np.broadcast_to(task, cases.shape)
    cosine = np.sum(tasks * cases, axis=1, keepdims=True)
    pair = [tasks * cases, np.abs(tasks - cases), cosine, rewards[:, None]]
    return np.concatenate([tasks, *pair], axis=1).astype(np.float32)


def _network(dim: int):
    """The prior and residual heads as one torch module: `forward(x) -> (prior logit, full logit)`."""
    import torch
    from torch import nn

    class PriorAndResidual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.task_bias = nn.Linear(dim, 1)
            self.prior = nn.Linear(2, 1, bias=False)  # cos(s, c), reward(c)
            self.residual = nn.Linear(2 * (2 * dim + 2), 1)
            for layer in (self.task_bias, self.prior, self.residual):  # untrained: p = 0.5 for every case
                nn.init.zeros_(layer.weight)
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            prior = self.task_bias(x[:, :dim])[:, 0] + self.prior(x[:, -2:])[:, 0]
            pair = x[:, dim:]
            return prior, prior.detach() + self.residual(torch.cat([pair, pair * x[:, -1:]], dim=1))[:, 0]

    return PriorAndResidual()


class Scorer:
    """Q(s, c) network with its optimiser, checkpoint and published read-only copy."""

    def __init__(self, dim: int, checkpoint: Checkpoint | None, device: str = "cpu"):
        self.dim = dim
        self.checkpoint = checkpoint
        self.device = device
        self.steps = 0
        self.last_loss: float | None = None
        self._train_net = None
        self._optimizer = None
        self._published = None  # the copy reads use
        self._loaded_stamp: str | None = None
        self._lock = threading.Lock()  # training and checkpoint I/O

    def _build(self):
        import torch
        torch.manual_seed(0)
        net = _network(self.dim).to(self.device)
        return net, torch.optim.AdamW(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    def _ensure(self) -> None:
        if self._train_net is None:
            self._train_net, self._optimizer = self._build()
            self._published = copy.deepcopy(self._train_net).eval()
            self.reload_if_changed()

    @property
    def trained(self) -> bool:
        self.reload_if_changed()
        return self.steps > 0

    def reload_if_changed(self) -> None:
        """Adopt a checkpoint another process (or an earlier run) saved."""
        stamp = self.checkpoint.stamp() if self.checkpoint else None
        if stamp is None or stamp == self._loaded_stamp:
            return
        import torch

        with self._lock:
            if self._train_net is None:
                self._train_net, self._optimizer = self._build()
            try:
                data = io.BytesIO(self.checkpoint.read())
                state = torch.load(data, map_location=self.device, weights_only=True)
            except Exception as exc:  # a torn or foreign file, or a store that failed: keep what we have
                log.warning("cannot load scorer checkpoint %s: %s", self.checkpoint.location, exc)
                return
            try:
                self._train_net.load_state_dict(state["net"])
                self._optimizer.load_state_dict(state["optimizer"])
            except (KeyError, RuntimeError, ValueError) as exc:  # another scorer's layout: start afresh
                log.warning(
                    "scorer checkpoint %s does not fit this scorer, training afresh: %s", self.checkpoint.location, exc
                )
                self._train_net, self._optimizer = self._build()
                self._loaded_stamp = stamp
                return
            self.steps = int(state["steps"].item())
            last = float(state["last_loss"].item()) if "last_loss" in state else float("nan")
            self.last_loss = None if np.isnan(last) else last
            self._published = copy.deepcopy(self._train_net).eval()
            self._loaded_stamp = stamp

    def logits(self, task: np.ndarray, cases: np.ndarray, rewards: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(prior, learned) logits of success for each case; `task` is one vector or one per case."""
        import torch

        self._ensure()
        self.reload_if_changed()
        net = self._published
        with torch.inference_mode():
            prior, full = net(torch.from_numpy(features(task, cases, rewards)).to(self.device))
        return prior.cpu().numpy(), full.cpu().numpy()

    def score(self, task: np.ndarray, cases: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """Predicted success probability of each case for the task (prior plus residual)."""
        return sigmoid(self.logits(task, cases, rewards)[1])

    def train_step(self, tasks: np.ndarray, cases: np.ndarray, rewards: np.ndarray, targets: np.ndarray) -> float:
        """One gradient step of both heads on a batch; returns the learned head's loss.
        The published copy is refreshed by `publish`."""
        import torch
        from torch.nn.functional import binary_cross_entropy_with_logits as bce

        self._ensure()
        with self._lock:
            x = torch.from_numpy(features(tasks, cases, rewards)).to(self.device)
            y = torch.from_numpy(targets.astype(np.float32)).to(self.device)
            self._train_net.train()
            prior, full = self._train_net(x)
            loss = bce(full, y)
            self._optimizer.zero_grad()
            (bce(prior, y) + loss).backward()
            self._optimizer.step()
            self.steps += 1
            self.last_loss = float(loss.item())
            return self.last_loss

    def publish(self) -> None:
        """Make the latest weights visible to reads."""
        with self._lock:
            self._published = copy.deepcopy(self._train_net).eval()

    def save(self) -> None:
        """Write the checkpoint whole beside the table."""
        import torch

        if self.checkpoint is None or self._train_net is None:
            return
        with self._lock:
            state = {
                "net": self._train_net.state_dict(),
                "optimizer": self._optimizer.state_dict(),
                "steps": torch.tensor(self.steps),
                "last_loss": torch.tensor(float("nan") if self.last_loss is None else self.last_loss),
            }
            data = io.BytesIO()
            torch.save(state, data)
            try:
                self._loaded_stamp = self.checkpoint.write(data.getvalue())
            except Exception as exc:  # a full disk, an unreachable store: training goes on, the next save may succeed
                log.warning("cannot save scorer checkpoint %s: %s", self.checkpoint.location, exc)

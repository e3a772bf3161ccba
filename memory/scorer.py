"""The learned policy's Q(s, c): predicted success of planning task s with past case c.

A small MLP over [s, c, s*c, cos(s, c), reward(c)] trained with binary cross-entropy on
observed rewards. Reads use a published copy of the network, so training never blocks them.
The checkpoint is written atomically (temp file + rename) and other processes reload it
when its modification time changes.
"""

from __future__ import annotations

import copy
import logging
import os
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
HIDDEN = 256
LEARNING_RATE = 1e-3


def features(task: np.ndarray, cases: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """One feature row per case: task (n, dim) or (dim,), cases (n, dim), rewards (n,)."""
    tasks = np.broadcast_to(task, cases.shape)
    cosine = np.sum(tasks * cases, axis=1, keepdims=True)
    return np.concatenate([tasks, cases, tasks * cases, cosine, rewards[:, None]], axis=1).astype(np.float32)


class Scorer:
    """Q(s, c) network with its optimiser, checkpoint and published read-only copy."""

    def __init__(self, dim: int, checkpoint: Path | None, device: str = "cpu"):
        self.dim = dim
        self.checkpoint = checkpoint
        self.device = device
        self.steps = 0
        self.last_loss: float | None = None
        self._train_net = None
        self._optimizer = None
        self._published = None  # the copy reads use
        self._loaded_mtime: int | None = None
        self._lock = threading.Lock()  # training and checkpoint I/O

    def _build(self):
        import torch
        from torch import nn

        torch.manual_seed(0)
        net = nn.Sequential(
            nn.Linear(3 * self.dim + 2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 64), nn.ReLU(), nn.Linear(64, 1)
        ).to(self.device)
        return net, torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)

    def _ensure(self) -> None:
        if self._train_net is None:
            self._train_net, self._optimizer = self._build()
            self._published = copy.deepcopy(self._train_net).eval()
            self.reload_if_changed()

    @property
    def trained(self) -> bool:
        self.reload_if_changed()
        return self.steps > 0

    def _mtime(self) -> int | None:
        try:
            return os.stat(self.checkpoint).st_mtime_ns if self.checkpoint else None
        except FileNotFoundError:
            return None

    def reload_if_changed(self) -> None:
        """Adopt a checkpoint another process (or an earlier run) saved."""
        mtime = self._mtime()
        if mtime is None or mtime == self._loaded_mtime:
            return
        import torch

        with self._lock:
            if self._train_net is None:
                self._train_net, self._optimizer = self._build()
            try:
                state = torch.load(self.checkpoint, map_location=self.device, weights_only=True)
            except Exception as exc:  # a torn or foreign file: keep what we have
                log.warning("cannot load scorer checkpoint %s: %s", self.checkpoint, exc)
                return
            self._train_net.load_state_dict(state["net"])
            self._optimizer.load_state_dict(state["optimizer"])
            self.steps = int(state["steps"].item())
            self._published = copy.deepcopy(self._train_net).eval()
            self._loaded_mtime = mtime

    def score(self, task: np.ndarray, cases: np.ndarray, rewards: np.ndarray) -> np.ndarray:
        """Predicted success probability of each case for the task."""
        import torch

        self._ensure()
        self.reload_if_changed()
        net = self._published
        with torch.inference_mode():
            logits = net(torch.from_numpy(features(task, cases, rewards)).to(self.device))
        return torch.sigmoid(logits[:, 0]).cpu().numpy()

    def train_step(self, tasks: np.ndarray, cases: np.ndarray, rewards: np.ndarray, targets: np.ndarray) -> float:
        """One gradient step on a batch; the published copy is refreshed by `publish`."""
        import torch

        self._ensure()
        with self._lock:
            x = torch.from_numpy(features(tasks, cases, rewards)).to(self.device)
            y = torch.from_numpy(targets.astype(np.float32)).to(self.device)
            self._train_net.train()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self._train_net(x)[:, 0], y)
            self._optimizer.zero_grad()
            loss.backward()
            self._optimizer.step()
            self.steps += 1
            self.last_loss = float(loss.item())
            return self.last_loss

    def publish(self) -> None:
        """Make the latest weights visible to reads."""
        with self._lock:
            self._published = copy.deepcopy(self._train_net).eval()

    def save(self) -> None:
        """Write the checkpoint atomically beside the table."""
        import torch

        if self.checkpoint is None or self._train_net is None:
            return
        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.checkpoint.with_name(f".{self.checkpoint.name}.{os.getpid()}.tmp")
        with self._lock:
            state = {
                "net": self._train_net.state_dict(),
                "optimizer": self._optimizer.state_dict(),
                "steps": torch.tensor(self.steps),
            }
            torch.save(state, temporary)
            os.replace(temporary, self.checkpoint)
            self._loaded_mtime = self._mtime()

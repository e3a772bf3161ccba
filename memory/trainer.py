"""Online training of the learned scorer: a background thread fed with new transitions.

Each arriving batch of (task vector, case vector, case reward, observed reward, written case)
joins a bounded replay buffer; the thread then takes a few gradient steps on samples that always
include the new experiences, publishes the weights to readers and checkpoints them (at most every
`save_interval` seconds). Samples favour recent experience: an experience's weight halves every
`half_life` newer ones, so the scorer follows a world that changes. Reads never wait for it.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from memento_memory.scorer import Scorer

log = logging.getLogger(__name__)
PASSES = 32  # expected times each experience is drawn into a training batch while it is recent
MIN_STEPS = 4  # gradient steps per arriving batch, however small
Batch = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # tasks, cases, case rewards, targets, written case ids


class OnlineTrainer:
    """Incremental updates of `scorer` in a daemon thread."""

    def __init__(
        self, scorer: Scorer, batch_size: int = 64, replay_size: int = 50_000, save_interval: float = 2.0, half_life: int = 2000
    ):
        self.scorer = scorer
        self.batch_size = batch_size
        self.replay_size = replay_size
        self.half_life = half_life
        self.save_interval = save_interval
        self.rng = np.random.default_rng(0)
        self._replay: list[np.ndarray] | None = None
        self._pending: list[Batch] = []
        self._cond = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._last_save = 0.0

    def add(self, batch: Batch) -> None:
        """Queue new experiences; returns at once."""
        if len(batch[0]) == 0:
            return
        with self._cond:
            self._pending.append(batch)
            self._start()
            self._cond.notify_all()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="memento-scorer-trainer", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued experience was trained on (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self) -> None:
        self.flush(10.0)
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(5.0)
        self.scorer.save()

    def fit(self, batch: Batch, epochs: int) -> float | None:
        """Train in the calling thread (offline): `epochs` passes over `batch` plus the replay buffer."""
        self._remember(batch)
        steps = max(1, epochs * len(self._replay[0]) // self.batch_size)
        loss = self._steps(steps, fresh=None)
        self.scorer.publish()
        self.scorer.save()
        return loss

    def relabel(self, written: str, reward: float) -> None:
        """The task written as case `written` was re-rated: its experiences get the new reward and are trained on."""
        with self._cond:
            if self._replay is None:
                return
            rows = np.flatnonzero(self._replay[4] == written)
            if not len(rows):
                return
            self._replay[3][rows] = reward
            self._pending.append(tuple(part[rows] for part in self._replay))  # trained on again, as fresh experience
            self._start()
            self._cond.notify_all()

    def _remember(self, batch: Batch) -> None:
        if self._replay is None:
            self._replay = [np.asarray(part) for part in batch]
        else:
            self._replay = [np.concatenate([old, new])[-self.replay_size :] for old, new in zip(self._replay, batch)]

    def _steps(self, steps: int, fresh: np.ndarray | None) -> float | None:
        size = len(self._replay[0])
        weights = 0.5 ** (np.arange(size)[::-1] / self.half_life)
        weights /= weights.sum()
        loss = None
        for step in range(steps):
            picks = self.rng.choice(size, size=min(self.batch_size, size), p=weights)
            if step == 0 and fresh is not None:
                picks = np.concatenate([fresh, picks])[: max(self.batch_size, len(fresh))]
            loss = self.scorer.train_step(*(part[picks] for part in self._replay[:4]))
        return loss

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                pending, self._pending = self._pending, []
                self._busy = True
            try:
                batch: Batch = tuple(np.concatenate(parts) for parts in zip(*pending))  # type: ignore[assignment]
                with self._cond:  # relabel() edits the buffer under this lock
                    self._remember(batch)
                size = len(self._replay[0])
                fresh = np.arange(size - min(len(batch[0]), size), size)
                self._steps(max(MIN_STEPS, round(PASSES * len(batch[0]) / self.batch_size)), fresh)
                self.scorer.publish()
                if time.monotonic() - self._last_save >= self.save_interval:
                    self.scorer.save()
                    self._last_save = time.monotonic()
            except Exception:  # never kill the thread: the next batch may succeed
                log.exception("online scorer training failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

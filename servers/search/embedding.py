"""The shared embedder, held to a fixed number of torch threads.

On a small, busy machine torch's default thread pool spins against other processes: one query
embedding measured 0.1-1.4 s with 2 threads and ~30 ms with 1 thread on a loaded 2-core host.
"""

from __future__ import annotations

from memento_servers.runtime.embeddings import Embedder


class PinnedEmbedder(Embedder):
    """An `Embedder` that sets torch's intra-op threads before the model loads (process-wide)."""

    def __init__(self, model: str, threads: int):
        super().__init__(model)
        self.threads = threads

    def _load(self):
        if self._model is None:
            import torch

            torch.set_num_threads(self.threads)
        return super()._load()

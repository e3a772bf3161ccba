"""The case bank's settings: storage location, embedding model, limits and index tuning.

`MemorySettings` (the server) inherits these fields, so every one is also a flag
(`--db`, `--model`, ...), an environment variable (`MEMENTO_MEMORY_DB`, ...) and a TOML key.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator

from memento_core import paths
from memento_core.embeddings import DEFAULT_BACKEND, DEFAULT_MODEL, EmbeddingBackend
from memento_memory.storage import storage_options


class BankConfig(BaseModel):
    """How a `CaseBank` stores, embeds, limits and searches cases."""

    db: str | None = Field(
        None,
        description="LanceDB URI or directory of the case bank (default: <data dir>/memory). "
        "Object-store URIs (s3://, gs://, az://) let several machines share one bank.",
        json_schema_extra={"cli": "--db"},
    )
    storage: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Object-store options for an s3://, s3+ddb://, gs:// or az:// bank, as LanceDB names them "
        "(endpoint, region, aws_access_key_id, allow_http, ...): the [memory.storage] table, or JSON here. "
        "The standard AWS_* variables fill in the rest.",
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: a sentence-transformers name or path, or 'feature-hash' "
        "(a fast deterministic word-hashing embedder without torch, for tests and tiny setups).",
    )
    embedding_backend: EmbeddingBackend = Field(
        DEFAULT_BACKEND, description="Backend that embeds cases in bulk: onnx, onnx-int8, torch or static (see README); "
        "a backend with vectors of another space (static) needs `reindex`."
    )
    query_backend: EmbeddingBackend | None = Field(
        None, description="Backend that embeds retrieval queries (default: the bulk one), same vector space."
    )
    embed_threads: int = Field(0, ge=0, le=64, description="Threads for bulk embedding (0: every core); queries use one.")
    device: str = Field("cpu", description="Torch device for the embedder and the learned scorer.")
    reward_threshold: float = Field(
        0.5, ge=0, le=1, description="Cases with reward >= this are positive examples, the rest negative."
    )
    max_k: int = Field(50, ge=1, le=1000, description="Largest k a retrieval may ask for.")
    max_task_chars: int = Field(4000, ge=10, description="Longest task text accepted.")
    max_plan_chars: int = Field(20000, ge=10, description="Longest plan (as JSON text) accepted.")
    max_text_chars: int = Field(20000, ge=10, description="Longest answer or trajectory summary accepted.")
    max_tags: int = Field(16, ge=0, description="Most tags per case.")
    max_batch: int = Field(1000, ge=1, description="Most cases per write call.")
    ann_threshold: int = Field(
        20000, ge=0, description="Cases past which an IVF index replaces exact search (rebuilt as the bank grows)."
    )
    ann_nprobe: int = Field(48, ge=1, description="IVF lists probed per query (higher: better recall, slower).")
    refresh_interval_s: float = Field(
        0.25, gt=0, le=60, description="How often other processes' (and other servers') commits are looked for "
        "and mirrored, and a peer's newer scorer checkpoint adopted; raise it on a remote object store to save requests.",
    )
    optimize_every: int = Field(64, ge=1, description="Compact the table's small fragments after this many writes.")
    query_cache_size: int = Field(2048, ge=0, description="Task embeddings kept in an LRU cache (0: none).")
    blas_threads: int = Field(
        1, ge=1, le=64, description="Threads for numpy's BLAS (1 keeps it from contending with torch's pool)."
    )
    torch_threads: int = Field(
        1, ge=1, le=64,
        description="Threads for the learned scorer's torch. 1 keeps query latency steady on a busy machine "
        "(embedding threads: embed_threads).",
    )
    train_online: bool = Field(True, description="Train the learned scorer in the background as rewards arrive.")
    replay_half_life: int = Field(
        2000, ge=1, description="Training draws past transitions with a weight that halves every this many newer ones "
        "(lower: adapts faster when the world changes, forgets sooner).",
    )
    gate_window: int = Field(
        512, ge=8, description="Latest held-out transitions on which the learned scorer must beat similarity to be used."
    )
    gate_min_tasks: int = Field(64, ge=2, description="Held-out tasks needed before the learned scorer may be used.")
    gate_confidence: float = Field(
        1.0, ge=0, le=10, description="Standard errors by which the learned scorer's held-out loss must beat similarity's."
    )
    utility_weight: float = Field(
        0.0, ge=0, le=10, description="Learned policy: weight of each case's running utility (mean reward of the tasks "
        "that used it, MemRL-style) beside similarity or the scorer; 0: off.",
    )
    utility_rate: float = Field(
        0.3, gt=0, le=1, description="Step of the utility update U <- U + rate * (reward - U); higher forgets sooner."
    )
    credit_depth: int = Field(
        0, ge=0, le=5, description="Provenance credit (MemQ-style): a reward also moves the utilities of the cases that "
        "led to the retrieved ones, up to this many steps back; 0: off.",
    )
    credit_decay: float = Field(0.5, gt=0, le=1, description="Credit kept per step back along the provenance (gamma*lambda).")

    def embedder(self):
        """The embedder these settings describe (loaded on first use)."""
        from memento_memory.embedding import make_embedder

        return make_embedder(self.model, self.embedding_backend, self.query_backend, self.embed_threads, self.device)

    @field_validator("storage", mode="before")
    @classmethod
    def _storage_from_json(cls, value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    def database(self) -> str:
        """The LanceDB URI to open."""
        return self.db or str(paths.data_dir() / "memory")

    def storage_options(self) -> dict[str, str]:
        """What LanceDB needs to reach the bank's object store (empty for a local bank)."""
        return storage_options(self.database(), {k: v.get_secret_value() for k, v in self.storage.items()})

    def local_dir(self) -> Path | None:
        """The bank's directory when it is on the local file system, else None."""
        uri = self.database()
        if "://" in uri and not uri.startswith("file://"):
            return None
        return Path(uri.removeprefix("file://")).expanduser()

    def bank_options(self) -> BankConfig:
        """Just the bank's fields (when called on a subclass such as the server's settings)."""
        return BankConfig.model_validate(self.model_dump(include=set(BankConfig.model_fields)))

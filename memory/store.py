"""The durable side of the bank: LanceDB tables of cases and of learning transitions.

The embedding model's name and dimension are stored in the cases table's schema metadata;
opening the table with another model raises `ModelMismatchError`. Every write returns only
after LanceDB committed it, and commit conflicts with other writer processes are retried.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from memento_memory.errors import CaseBankError, ModelMismatchError
from memento_memory.storage import check_conditional_puts

log = logging.getLogger(__name__)
CASES = "cases"
TRANSITIONS = "transitions"
MODEL_KEY = b"memento.embedding_model"
DIM_KEY = b"memento.embedding_dim"
T = TypeVar("T")


def case_schema(model: str, dim: int) -> pa.Schema:
    timestamp = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("task", pa.string()),
            pa.field("plan", pa.string()),  # JSON text
            pa.field("answer", pa.string()),
            pa.field("summary", pa.string()),
            pa.field("reward", pa.float32()),
            pa.field("outcome", pa.string()),
            pa.field("source", pa.string()),
            pa.field("run_id", pa.string()),
            pa.field("trust", pa.string()),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("created_at", timestamp),
            pa.field("updated_at", timestamp),
            pa.field("rev", pa.string()),  # changes on every write of the row: how other processes see updates
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ],
        metadata={MODEL_KEY: model.encode(), DIM_KEY: str(dim).encode()},
    )


# columns added since the first release, with the SQL that fills them in older banks
LATER_TRANSITION_COLUMNS = {
    "from_case": "CAST('' AS STRING)",  # the case written for the task: provenance
    "p_learned": "CAST(NULL AS FLOAT)",  # success predicted by the learned scorer before training on it
    "p_prior": "CAST(NULL AS FLOAT)",  # ... and by the similarity prior
    "gate_open": "CAST(NULL AS BOOLEAN)",  # whether the learned ranking was in use when it was recorded
}
LOG_COLUMNS = ["case_id", "reward", "from_case", "p_learned", "p_prior", "gate_open", "created_at"]
USE_COLUMNS = ["task", "case_id", "reward", "run_id", "from_case", "created_at"]


def transition_schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("task", pa.string()),
            pa.field("case_id", pa.string()),
            pa.field("reward", pa.float32()),
            pa.field("run_id", pa.string()),
            pa.field("created_at", pa.timestamp("us", tz="UTC")),
            pa.field("task_vector", pa.list_(pa.float32(), dim)),
            pa.field("from_case", pa.string()),
            pa.field("p_learned", pa.float32()),
            pa.field("p_prior", pa.float32()),
            pa.field("gate_open", pa.bool_()),
        ]
    )


def vector_column(vectors: np.ndarray) -> pa.FixedSizeListArray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return pa.FixedSizeListArray.from_arrays(pa.array(vectors.ravel()), vectors.shape[1])


def quoted(ids: Sequence[str]) -> str:
    """A SQL IN list; ids are validated against `ID_PATTERN`, so they hold no quotes."""
    return ", ".join(f"'{i}'" for i in ids)


def _retrying(action: Callable[[], T], what: str, attempts: int = 12) -> T:
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:  # lance reports commit conflicts as plain runtime errors
            text = str(exc).lower()
            if attempt == attempts - 1 or not any(w in text for w in ("conflict", "retry", "already exists")):
                raise
            log.debug("%s: retrying after %s", what, exc)
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


class CaseStore:
    """The two LanceDB tables of one bank, created on first write."""

    def __init__(self, uri: str, model: str, check_model: bool = True, storage: dict[str, str] | None = None):
        """`storage`: LanceDB's options for an object store (`BankConfig.storage_options`)."""
        import lancedb

        self.uri = uri
        self.model = model
        check_conditional_puts(uri, storage or {})
        self.db = lancedb.connect(uri, read_consistency_interval=timedelta(0), storage_options=storage or None)
        self.cases = None
        self.transitions = None
        self.dim: int | None = None
        self.check_model = check_model
        self._ensure_lock = threading.Lock()
        self._open_existing()

    def _open_existing(self) -> None:
        if self.cases is not None:
            return
        try:
            table = self.db.open_table(CASES)
        except (FileNotFoundError, ValueError):
            return
        metadata = table.schema.metadata or {}
        stored = metadata.get(MODEL_KEY, b"").decode()
        if stored != self.model and self.check_model:
            raise ModelMismatchError(
                f"the case bank at {self.uri} was embedded with '{stored}', not '{self.model}': "
                f"use --model {stored!r}, or run `memento-memory reindex --model {self.model!r}` to re-embed it"
            )
        self.dim = int(metadata[DIM_KEY])
        self.cases = table
        try:
            self.transitions = self.db.open_table(TRANSITIONS)
        except (FileNotFoundError, ValueError):
            self.transitions = None
        self._upgrade_transitions()

    def _upgrade_transitions(self) -> None:
        """Add the columns a bank written by an older version lacks (idempotent; racing processes retry)."""
        if self.transitions is None:
            return
        missing = {name: sql for name, sql in LATER_TRANSITION_COLUMNS.items() if name not in self.transitions.schema.names}
        if missing:
            try:
                _retrying(lambda: self.transitions.add_columns(missing), "upgrade transitions")
            except Exception:
                if set(missing) - set(self.transitions.schema.names):  # not added by another process either
                    raise

    def exists(self) -> bool:
        self._open_existing()
        return self.cases is not None

    def ensure(self, dim: int) -> None:
        """Create the tables (if no process did yet) for vectors of `dim`.

        Serialised: concurrent writes of one process all call this, and none may see a half-set store."""
        with self._ensure_lock:
            self._open_existing()
            if self.cases is None:
                _retrying(
                    lambda: self.db.create_table(CASES, schema=case_schema(self.model, dim), exist_ok=True), "create"
                )
                self._open_existing()
                if self.cases is None:
                    raise CaseBankError(f"the cases table at {self.uri} was created but cannot be opened yet: retry")
            if self.dim != dim:
                raise ModelMismatchError(
                    f"the case bank stores {self.dim}-d vectors but '{self.model}' makes {dim}-d ones"
                )
            if self.transitions is None:
                self.transitions = _retrying(
                    lambda: self.db.create_table(TRANSITIONS, schema=transition_schema(dim), exist_ok=True), "create"
                )

    def version(self) -> int:
        """The latest committed version of the cases table (0 if it does not exist)."""
        if not self.exists():
            return 0
        return self.cases.version

    # cases
    def read_all(self) -> pa.Table:
        return self.cases.to_arrow() if self.exists() else pa.table({})

    def read_keys(self) -> pa.Table:
        """id and rev of every case: enough to tell what changed."""
        return self.cases.search().select(["id", "rev"]).limit(None).to_arrow()

    def read_ids(self, ids: Sequence[str]) -> pa.Table:
        parts = [
            self.cases.search().where(f"id IN ({quoted(ids[i : i + 500])})").limit(None).to_arrow()
            for i in range(0, len(ids), 500)
        ]
        return pa.concat_tables(parts) if parts else self.cases.schema.empty_table()

    def append(self, rows: pa.Table) -> None:
        _retrying(lambda: self.cases.add(rows), "add")

    def insert_absent(self, rows: pa.Table) -> None:
        """Insert rows whose id is not stored yet (idempotent retries)."""
        _retrying(lambda: self.cases.merge_insert("id").when_not_matched_insert_all().execute(rows), "insert")

    def replace(self, rows: pa.Table) -> None:
        """Overwrite stored rows with these (same ids)."""
        _retrying(lambda: self.cases.merge_insert("id").when_matched_update_all().execute(rows), "update")

    def delete(self, ids: Sequence[str]) -> None:
        _retrying(lambda: self.cases.delete(f"id IN ({quoted(ids)})"), "delete")

    def overwrite(self, rows: pa.Table, dim: int) -> None:
        """Replace the whole bank (reindex): new schema, new model metadata."""
        self.cases = self.db.create_table(CASES, rows, schema=case_schema(self.model, dim), mode="overwrite")
        self.dim = dim
        self.transitions = self.db.create_table(TRANSITIONS, schema=transition_schema(dim), mode="overwrite")

    def optimize(self) -> None:
        try:
            self.cases.optimize(cleanup_older_than=timedelta(minutes=10))
        except Exception as exc:  # another process may be compacting too; the next round will do
            log.info("optimize skipped: %s", exc)

    # transitions
    def add_transitions(self, rows: pa.Table) -> None:
        _retrying(lambda: self.transitions.add(rows), "add transitions")

    def count_transitions(self) -> int:
        return self.transitions.count_rows() if self.transitions is not None else 0

    def read_transitions(self) -> pa.Table:
        if self.transitions is None:
            return transition_schema(self.dim or 1).empty_table()
        return self.transitions.to_arrow()

    def transitions_version(self) -> int:
        return self.transitions.version if self.transitions is not None else 0

    def read_transition_log(self) -> pa.Table:
        """Every transition without its vector, oldest first: what utilities and the gate are built from."""
        if self.transitions is None:
            return transition_schema(self.dim or 1).empty_table().select(LOG_COLUMNS)
        rows = self.transitions.search().select(LOG_COLUMNS).limit(None).to_arrow()
        return rows.take(pa.compute.sort_indices(rows, [("created_at", "ascending")]))

    def case_transitions(self, case_id: str) -> pa.Table:
        """The transitions that retrieved `case_id` (validated: no quotes), without vectors, in no order."""
        if not self.exists() or self.transitions is None:
            return transition_schema(self.dim or 1).empty_table().select(USE_COLUMNS)
        return self.transitions.search().where(f"case_id = '{case_id}'").select(USE_COLUMNS).limit(None).to_arrow()

    def relabel_transitions(self, from_case: str, reward: float) -> int:
        """Give the transitions of the task written as `from_case` a new reward; returns how many."""
        if self.transitions is None:
            return 0
        where = f"from_case = '{from_case}'"  # ids are validated: no quotes
        count = self.transitions.count_rows(where)
        if count:
            _retrying(lambda: self.transitions.update(where=where, values={"reward": reward}), "relabel")
        return count


def rows_table(rows: list[dict[str, Any]], vectors: np.ndarray, schema: pa.Schema) -> pa.Table:
    """Arrow rows (without vectors) plus their vectors, in the cases schema."""
    columns = {name: [row[name] for row in rows] for name in schema.names if name != "vector"}
    columns["vector"] = vector_column(vectors)
    return pa.table(columns, schema=schema)

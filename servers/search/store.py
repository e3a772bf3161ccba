"""The local corpus on disk: a LanceDB table of chunks (BM25 full-text index + vectors) and a table of sources.

    <index_dir>/<corpus>.lance          id, doc_id, chunk, title, text, content, url, source, hash, vector
    <index_dir>/<corpus>__sources.lance  source, mtime_ns, size, sha256  (what incremental indexing compares)
    <index_dir>/<corpus>.json            the embedding model the vectors came from

Chunks are written with BM25 first: a chunk whose vector is not computed yet has a zero vector and
`hash` = "pending:<content hash>", so it is searchable by BM25 at once and skipped by vector search;
`backfill` fills the vectors in afterwards and restores the hash (which also tells the mirror).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from memento_core.mirror import RowMirror
from memento_core.vector_index import VectorIndex
from memento_servers.search.errors import IndexingError

log = logging.getLogger(__name__)

ROW_COLUMNS = ["id", "doc_id", "chunk", "title", "text", "url", "source"]
MIRRORED_COLUMNS = [*ROW_COLUMNS, "hash", "vector"]  # hash: a chunk's rev (its content changed)
PENDING = "pending:"  # prefix of the hash of a chunk still waiting for its vector
MAX_MIRRORED_ROWS = 500_000  # a larger corpus is searched by LanceDB on disk, so memory stays bounded


@dataclass(frozen=True)
class SourceState:
    """What was indexed from one file: enough to tell whether it changed."""

    source: str
    mtime_ns: int
    size: int
    sha256: str


def content(title: str, text: str) -> str:
    """What BM25 indexes of a chunk: its document's title, then its text."""
    return f"{title}\n{text}" if title else text


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _schema(dim: int):
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("doc_id", pa.string()),
            ("chunk", pa.int32()),
            ("title", pa.string()),
            ("text", pa.string()),
            ("content", pa.string()),
            ("url", pa.string()),
            ("source", pa.string()),
            ("hash", pa.string()),
            ("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _sources_schema():
    import pyarrow as pa

    return pa.schema([("source", pa.string()), ("mtime_ns", pa.int64()), ("size", pa.int64()), ("sha256", pa.string())])


class ChunkStore:
    """Opens (lazily) and edits one corpus; all calls are blocking (run them in a thread)."""

    def __init__(self, index_dir: Path, corpus: str):
        self.index_dir = Path(index_dir)
        self.corpus = corpus
        self._db = None
        self._chunks = None
        self._mirror: RowMirror | None = None
        self._mirror_lock = threading.Lock()
        self._pending: tuple[int, int] | None = None

    # --- opening -------------------------------------------------------------------------
    def _connect(self):
        if self._db is None:
            import lancedb

            self.index_dir.mkdir(parents=True, exist_ok=True)
            # re-check the table version at most every few seconds, so a running server sees re-indexing
            self._db = lancedb.connect(str(self.index_dir), read_consistency_interval=timedelta(seconds=5))
        return self._db

    def _table_names(self) -> set[str]:
        return set(self._connect().list_tables().tables)

    def exists(self) -> bool:
        return self.index_dir.exists() and self.corpus in self._table_names()

    def chunks(self):
        """The chunk table, or None when the corpus was never indexed."""
        if self._chunks is None and self.exists():
            self._chunks = self._connect().open_table(self.corpus)
        return self._chunks

    def meta_path(self) -> Path:
        return self.index_dir / f"{self.corpus}.json"

    def model(self) -> str | None:
        path = self.meta_path()
        return json.loads(path.read_text())["embedding_model"] if path.exists() else None

    def ensure(self, model: str, dim: int) -> None:
        """Create the tables for `model`'s vectors, or check an existing corpus used the same model."""
        existing = self.model()
        if existing is not None and existing != model:
            raise IndexingError(
                f"corpus '{self.corpus}' was indexed with {existing}, not {model}: run `memento-search reindex` "
                "to re-embed it with the configured model and backend, or use another --corpus or --index"
            )
        db = self._connect()
        names = self._table_names()
        if self.corpus not in names:
            self._chunks = db.create_table(self.corpus, schema=_schema(dim))
        if f"{self.corpus}__sources" not in names:
            db.create_table(f"{self.corpus}__sources", schema=_sources_schema())
        self.meta_path().write_text(json.dumps({"embedding_model": model, "dim": dim}))
        self._pending = None

    def reset_vectors(self, model: str, dim: int) -> int:
        """Rewrite the chunk table for `model`'s `dim`-wide vectors with every chunk pending (text and
        sources kept); returns the number of chunks. The BM25 index must be rebuilt afterwards."""
        import pyarrow as pa
        import pyarrow.compute as pc

        rows = self.chunks().search().select([n for n in _schema(dim).names if n != "vector"]).limit(None).to_arrow()
        hashes = pc.replace_substring_regex(rows.column("hash"), f"^({PENDING})?", PENDING)
        rows = rows.set_column(rows.schema.get_field_index("hash"), "hash", hashes)
        zeros = pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(rows.num_rows * dim, np.float32)), dim)
        self._chunks = self._connect().create_table(
            self.corpus, rows.append_column("vector", zeros).cast(_schema(dim)), mode="overwrite"
        )
        self.meta_path().write_text(json.dumps({"embedding_model": model, "dim": dim}))
        self._mirror, self._pending = None, None
        return rows.num_rows

    def _sources(self):
        return self._connect().open_table(f"{self.corpus}__sources")

    # --- reading -------------------------------------------------------------------------
    def count(self) -> int:
        table = self.chunks()
        return table.count_rows() if table is not None else 0

    def pending(self) -> int:
        """Chunks still waiting for their vector (counted once per table version)."""
        table = self.chunks()
        if table is None:
            return 0
        version = table.version
        if self._pending is None or self._pending[0] != version:
            self._pending = (version, table.count_rows(f"hash LIKE '{PENDING}%'"))
        return self._pending[1]

    def pending_rows(self, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` whole chunk rows still waiting for their vector."""
        return self.chunks().search().where(f"hash LIKE '{PENDING}%'").limit(limit).to_list()

    def source_states(self) -> dict[str, SourceState]:
        if not self.exists():
            return {}
        rows = self._sources().to_arrow().to_pylist()
        return {row["source"]: SourceState(**row) for row in rows}

    def vectors_by_hash(self, source: str) -> dict[str, Any]:
        """Vectors already stored for `source`, keyed by chunk content hash (to skip re-embedding)."""
        table = self.chunks()
        if table is None:
            return {}
        rows = table.search().where(f"source = {_quote(source)}").select(["hash", "vector"]).to_list()
        return {row["hash"]: row["vector"] for row in rows}

    # --- mirrored reads (`memento_core.mirror.MirroredTable`) ---------------------------------
    def version(self) -> int:
        return self.chunks().version

    def read_keys(self):
        return self.chunks().search().select(["id", "hash"]).limit(None).to_arrow()

    def read_ids(self, ids: list[str]):
        import pyarrow as pa

        table = self.chunks()
        parts = [
            table.search().where(f"id IN ({', '.join(map(_quote, ids[i : i + 500]))})").select(MIRRORED_COLUMNS)
            for i in range(0, len(ids), 500)
        ]
        return pa.concat_tables([part.limit(None).to_arrow() for part in parts])

    def read_contents(self) -> tuple[list[str], list[str], list[str]]:
        """Ids, titles and indexed text (title + text) of every chunk, for an in-memory lexical index."""
        table = self.chunks().search().select(["id", "title", "content"]).limit(None).to_arrow()
        return tuple(table.column(name).to_pylist() for name in ("id", "title", "content"))

    def rows_by_id(self, ids: list[str], version: int | None = None) -> dict[str, dict[str, Any]]:
        """The result columns of these chunks by id (from the in-memory mirror when there is one);
        a chunk deleted meanwhile is absent. `version`: the table version already read for this query."""
        mirror = self._synced_mirror(version)
        if mirror is None:
            rows = self.read_ids(ids).select(ROW_COLUMNS).to_pylist() if ids else []
            return {row["id"]: row for row in rows}
        found = ((chunk_id, mirror.rows.get(chunk_id)) for chunk_id in ids)
        return {chunk_id: {name: row[name] for name in ROW_COLUMNS} for chunk_id, row in found if row is not None}

    def read_all(self):
        return self.chunks().search().select(MIRRORED_COLUMNS).limit(None).to_arrow()

    # --- writing -------------------------------------------------------------------------
    def replace_source(self, state: SourceState, rows: list[dict[str, Any]]) -> None:
        """Swap every chunk of `state.source` for `rows` and record its new state."""
        self.delete_source(state.source)
        if rows:
            self.chunks().add(rows)
        self._sources().add([state.__dict__])

    def fill_vectors(self, rows: list[dict[str, Any]]) -> None:
        """Store computed vectors of pending rows (`hash` already restored); rows deleted meanwhile stay deleted."""
        import pyarrow as pa

        table = self.chunks()
        data = pa.Table.from_pylist(rows, schema=table.schema)
        table.merge_insert("id").when_matched_update_all().execute(data)

    def touch_source(self, state: SourceState) -> None:
        """Record a new mtime for a file whose content did not change."""
        self._sources().delete(f"source = {_quote(state.source)}")
        self._sources().add([state.__dict__])

    def delete_source(self, source: str) -> None:
        self.chunks().delete(f"source = {_quote(source)}")
        self._sources().delete(f"source = {_quote(source)}")

    def rebuild_text_index(self) -> None:
        """(Re)build the BM25 index over title + text (English stemming, stop words, ASCII folding)."""
        from lancedb.index import FTS

        table = self.chunks()
        if table is not None and table.count_rows():
            table.create_index(
                "content",
                config=FTS(language="English", stem=True, remove_stop_words=True, ascii_folding=True, lower_case=True),
                replace=True,
            )
            table.optimize()

    # --- querying ------------------------------------------------------------------------
    def text_scores(self, query: str, limit: int) -> dict[str, float]:
        """The `limit` best chunk ids by BM25, best first, with their scores (rows: `rows_by_id`)."""
        table = self.chunks().search(query, query_type="fts", fts_columns="content").select(["id", "_score"]).limit(limit)
        found = table.to_arrow()
        return dict(zip(found.column("id").to_pylist(), found.column("_score").to_pylist(), strict=True))

    def vector_scores(self, vector, limit: int, version: int | None = None) -> dict[str, float]:
        """The `limit` nearest chunk ids with a vector, best first, with their dot similarity."""
        mirror = self._synced_mirror(version)
        if mirror is None:
            found = (
                self.chunks()
                .search(vector, query_type="vector", vector_column_name="vector")
                .distance_type("dot")
                .where(f"hash NOT LIKE '{PENDING}%'", prefilter=True)
                .select(["id", "_distance"])
                .limit(limit)
                .to_arrow()
            )
            distances = found.column("_distance").to_pylist()
            return {item: 1.0 - distance for item, distance in zip(found.column("id").to_pylist(), distances, strict=True)}
        _, sims, ids = mirror.search(np.asarray(vector, dtype=np.float32), limit)
        rows = mirror.rows
        return {  # a pending chunk has a zero vector: nothing to compare yet
            item: float(sim) for item, sim in zip(ids, sims) if item in rows and not rows[item]["hash"].startswith(PENDING)
        }

    def _synced_mirror(self, version: int | None = None) -> RowMirror | None:
        """The in-memory mirror of the chunk table caught up with `version` (default: its latest; only
        changed chunks read), searched exactly; None while the corpus is larger than `MAX_MIRRORED_ROWS`."""
        table = self.chunks()
        with self._mirror_lock:
            if self._mirror is not None and self._mirror.version == (table.version if version is None else version):
                return self._mirror
            if table.count_rows() > MAX_MIRRORED_ROWS:
                self._mirror = None
                return None
            if self._mirror is None:
                dim = table.schema.field("vector").type.list_size
                self._mirror = RowMirror(VectorIndex(dim, ann_threshold=MAX_MIRRORED_ROWS + 1, nprobe=1), key="id", rev="hash")
            self._mirror.sync(self)
            return self._mirror

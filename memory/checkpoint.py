"""Where the learned scorer's checkpoint lives: a file beside a local bank, an object beside an s3:// bank.

Either way a checkpoint is written whole (an atomic rename, a single PUT) and carries a stamp (mtime,
ETag) that changes with every write, so each process sharing the bank adopts a peer's newer weights.
An object's stamp is asked for at most once per refresh interval: retrievals never wait on the store.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from memento_core import paths
from memento_memory.config import BankConfig
from memento_memory.storage import s3_client, scheme

NAME = "scorer.pt"
log = logging.getLogger(__name__)


class FileCheckpoint:
    def __init__(self, path: Path):
        self.path = path
        self.location = str(path)

    def stamp(self) -> str | None:
        try:
            return str(os.stat(self.path).st_mtime_ns)
        except FileNotFoundError:
            return None

    def read(self) -> bytes:
        return self.path.read_bytes()

    def write(self, data: bytes) -> str | None:
        """Replace the checkpoint atomically; returns its new stamp."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, self.path)
        return self.stamp()

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


class ObjectCheckpoint:
    def __init__(self, uri: str, options: dict[str, str], interval: float):
        parts = urlsplit(uri)
        self.bucket, self.key = parts.netloc, f"{parts.path.strip('/')}/{NAME}".lstrip("/")
        self.location = f"s3://{self.bucket}/{self.key}"
        self.client = s3_client(options)
        self.interval = interval
        self._seen: tuple[float, str | None] = (-float("inf"), None)

    def stamp(self) -> str | None:
        asked, etag = self._seen
        if time.monotonic() - asked < self.interval:
            return etag
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            etag = self.client.head_object(Bucket=self.bucket, Key=self.key)["ETag"]
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                etag = None
            else:  # unreachable for now: retrievals go on with the weights they have
                log.warning("cannot check scorer checkpoint %s, keeping the loaded one: %s", self.location, exc)
        self._seen = (time.monotonic(), etag)
        return etag

    def read(self) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()

    def write(self, data: bytes) -> str | None:
        etag = self.client.put_object(Bucket=self.bucket, Key=self.key, Body=data)["ETag"]
        self._seen = (time.monotonic(), etag)
        return etag

    def delete(self) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key)
        self._seen = (time.monotonic(), None)


Checkpoint = FileCheckpoint | ObjectCheckpoint


def checkpoint_for(config: BankConfig) -> Checkpoint:
    """Beside the bank: a file for a local bank, an object for an s3:// one; in the cache dir for gs:// and az://."""
    local = config.local_dir()
    if local is not None:
        return FileCheckpoint(local / NAME)
    if scheme(config.database()).startswith("s3"):
        uri = config.database().replace("s3+ddb://", "s3://", 1)
        return ObjectCheckpoint(uri, config.storage_options(), config.refresh_interval_s)
    digest = hashlib.sha256(config.database().encode()).hexdigest()[:16]
    return FileCheckpoint(paths.cache_dir() / "memory" / digest / NAME)

"""Where a bank lives: a local directory or an object store (s3://, s3+ddb://, gs://, az://), and how to reach it.

LanceDB commits a new table version by writing its manifest only if no object of that name exists
yet (`If-None-Match: *` on S3). A store that ignores the condition lets two writers commit the same
version: one writer's cases silently vanish. `check_conditional_puts` proves the condition holds
before a bank on plain `s3://` is used; `s3+ddb://` commits through a DynamoDB table instead, and
gs:// and az:// honour preconditions natively.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from memento_memory.errors import CaseBankError

OBJECT_SCHEMES = ("s3", "s3+ddb", "gs", "az")
# the standard AWS variables, as LanceDB's storage option names (first set wins)
AWS_ENVIRONMENT = {
    "aws_access_key_id": ("AWS_ACCESS_KEY_ID",),
    "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY",),
    "aws_session_token": ("AWS_SESSION_TOKEN",),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "endpoint": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"),
    "allow_http": ("AWS_ALLOW_HTTP",),
}


class StorageError(CaseBankError):
    """The bank's object store cannot be used safely (unreachable, or it would lose writes)."""


def scheme(uri: str) -> str:
    """'s3', 'gs', ... for an object-store URI; '' for a local path."""
    return urlsplit(uri).scheme if "://" in uri and not uri.startswith("file://") else ""


def storage_options(uri: str, configured: Mapping[str, str]) -> dict[str, str]:
    """LanceDB's storage options: the `[memory.storage]` table over the standard AWS variables.

    A plain-http endpoint (a local S3 server) turns on `allow_http`, which the store otherwise refuses."""
    if not scheme(uri):
        return {}
    options: dict[str, str] = {}
    if scheme(uri).startswith("s3"):
        for option, names in AWS_ENVIRONMENT.items():
            value = next((os.environ[name] for name in names if os.environ.get(name)), None)
            if value:
                options[option] = value
    options.update({key.lower(): str(value) for key, value in configured.items()})
    if options.get("endpoint", "").startswith("http://"):
        options.setdefault("allow_http", "true")
    return options


def unreachable(uri: str, reason: str) -> StorageError:
    """The one-line error for a bank whose store cannot be reached or used, with what to check."""
    return StorageError(
        f"cannot use the case bank at {uri} ({reason}): check the URI, the bucket's region and credentials "
        "(AWS_REGION, AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL, or [memory.storage]), or pass --db"
    )


def check_conditional_puts(uri: str, options: Mapping[str, str]) -> None:
    """Refuse a plain s3:// bank whose store ignores `If-None-Match` (or that cannot be reached)."""
    if scheme(uri) != "s3":
        return
    client = s3_client(options)
    from botocore.exceptions import BotoCoreError, ClientError

    parts = urlsplit(uri)
    key = f"{parts.path.strip('/')}/_memento_probe/{uuid.uuid4().hex}".lstrip("/")
    try:
        client.put_object(Bucket=parts.netloc, Key=key, Body=b"1", IfNoneMatch="*")
        try:
            client.put_object(Bucket=parts.netloc, Key=key, Body=b"2", IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict", "412"):
                return
            raise
        finally:
            client.delete_object(Bucket=parts.netloc, Key=key)
    except (BotoCoreError, ClientError) as exc:
        raise unreachable(uri, str(exc)) from exc
    raise StorageError(
        f"the object store behind {uri} ignores conditional writes (If-None-Match), so concurrent writers would "
        "silently lose cases: use a store that honours them (AWS S3, recent MinIO) or s3+ddb:// with a DynamoDB table"
    )


def s3_client(options: Mapping[str, str]):
    """A botocore S3 client for the bank's store, configured as LanceDB is."""
    try:
        from botocore.config import Config
        from botocore.session import get_session
    except ImportError as exc:
        raise StorageError("an s3:// case bank needs botocore: pip install 'memento-mcp[s3]'") from exc
    return get_session().create_client(
        "s3",
        endpoint_url=options.get("endpoint"),
        region_name=options.get("region") or "us-east-1",
        aws_access_key_id=options.get("aws_access_key_id"),
        aws_secret_access_key=options.get("aws_secret_access_key"),
        aws_session_token=options.get("aws_session_token"),
        config=Config(
            retries={"max_attempts": 2}, connect_timeout=5, read_timeout=10,
            s3={"addressing_style": "path"} if options.get("endpoint") else {},
        ),
    )

"""Settings shared by every server, and the layered loading of a server's settings.

Precedence, highest first: CLI flags > environment (`MEMENTO_<SERVER>_<FIELD>`, and for
the common fields also `MEMENTO_<FIELD>`) > the TOML config file (top-level keys for the
common fields, a `[<server>]` table for that server) > the model's defaults.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from memento_core.errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class ServerSettings(BaseModel):
    """The settings every memento server has; each server subclasses this with its own."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    transport: Literal["stdio", "http"] = Field("stdio", description="stdio (default) or streamable HTTP at /mcp.")
    host: str = Field("127.0.0.1", description="HTTP bind address; a non-loopback address requires a token.")
    port: int = Field(0, ge=0, le=65535, description="HTTP port (0: the server's default port).")
    token: SecretStr | None = Field(None, description="Bearer token HTTP clients must send (MEMENTO_TOKEN).")
    allowed_hosts: list[str] = Field(
        default_factory=list, description="Extra Host header values accepted over HTTP (DNS-rebinding protection)."
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Extra Origin header values accepted over HTTP, e.g. https://app.example."
    )
    log_level: LogLevel = Field("INFO", description="Log level; logs go to stderr only.")
    max_message_mb: float = Field(
        16.0, gt=0, le=1024, description="stdio: longest incoming message, MiB; a longer one gets an error reply."
    )
    max_json_depth: int = Field(
        64, ge=8, le=512, description="stdio: deepest nesting in an incoming message; a deeper one gets an error reply."
    )


COMMON_FIELDS = frozenset(ServerSettings.model_fields)
S = TypeVar("S", bound=ServerSettings)


def env_names(server: str, field: str) -> list[str]:
    """Environment variables that can set `field`, most specific first."""
    names = [f"MEMENTO_{server.upper()}_{field.upper()}"]
    if field in COMMON_FIELDS:
        names.append(f"MEMENTO_{field.upper()}")
    return names


def is_list(annotation: Any) -> bool:
    if get_origin(annotation) is list:
        return True
    return any(get_origin(arg) is list for arg in get_args(annotation))


def _parse_env_value(raw: str, annotation: Any) -> Any:
    if is_list(annotation):
        raw = raw.strip()
        if raw.startswith("["):
            return json.loads(raw)
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc


def load_settings(
    model: type[S], server: str, cli: dict[str, Any], config_file: Path | None, explicit_file: bool
) -> S:
    """Merge defaults, the TOML file, the environment and CLI values into `model`."""
    values: dict[str, Any] = {}
    if config_file is not None:
        if explicit_file and not config_file.exists():
            raise ConfigError(f"config file {config_file} does not exist")
        document = _read_toml(config_file)
        section = document.get(server, {})
        if not isinstance(section, dict):
            raise ConfigError(f"[{server}] in {config_file} must be a table")
        values.update({k: v for k, v in document.items() if k in COMMON_FIELDS})
        values.update(section)
    for name, field in model.model_fields.items():
        for env in env_names(server, name):
            if env in os.environ:
                values[name] = _parse_env_value(os.environ[env], field.annotation)
                break
    values.update(cli)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings for memento-{server}: {problems}") from exc


def masked(settings: BaseModel) -> dict[str, Any]:
    """The settings as JSON-able data with every secret replaced by '***'."""
    data = settings.model_dump(mode="json")
    for name, value in settings:
        if isinstance(value, SecretStr):
            data[name] = "***"
    return data

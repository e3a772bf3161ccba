"""The command line every server shares: flags from its settings model, subcommands, serving."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, get_args

import anyio
from mcp.server.mcpserver import MCPServer
from pydantic import SecretStr

from memento_core import paths
from memento_core.errors import MementoError
from memento_core.settings import ServerSettings, env_names, is_list, load_settings, masked
from memento_core.units import mib
from memento_core.version import extra_advice, package_version
from memento_servers.runtime.http import serve_http
from memento_servers.runtime.stdio import serve_stdio
from memento_servers.runtime.tools import ServerInfo, add_server_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Command:
    """A subcommand such as `memento-memory import FILE`."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Any, argparse.Namespace], int | None]


@dataclass(frozen=True)
class ServerSpec:
    """Everything the runtime needs to know to run one server."""

    name: str  # short name: "documents" -> memento-documents, MEMENTO_DOCUMENTS_*, [documents]
    summary: str
    settings: type[ServerSettings]
    build: Callable[[Any], MCPServer]  # settings -> server with its tools
    default_port: int
    commands: Sequence[Command] = field(default_factory=tuple)

    @property
    def program(self) -> str:
        return f"memento-{self.name}"


def _flag(name: str, info: Any) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return extra.get("cli", "--" + name.replace("_", "-"))


def _default_text(info: Any) -> str:
    """` (default: X)` for a setting with a meaningful default, else ''."""
    default = info.get_default(call_default_factory=True)
    said = "default" in (info.description or "").lower()
    if said or default in (None, False, [], "") or info.annotation is SecretStr:
        return ""
    if isinstance(default, list):
        default = ", ".join(map(str, default))
    return f" (default: {default})"


def _add_settings_flags(parser: argparse.ArgumentParser, spec: ServerSpec, shown: bool = True) -> None:
    for name, info in spec.settings.model_fields.items():
        helptext = f"{info.description or ''}{_default_text(info)} [env: {', '.join(env_names(spec.name, name))}]"
        kwargs: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": helptext if shown else argparse.SUPPRESS}
        if info.annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif is_list(info.annotation):
            kwargs["action"] = "append"
        elif choices := [a for a in get_args(info.annotation) if isinstance(a, str)]:
            kwargs["choices"] = choices
        parser.add_argument(_flag(name, info), **kwargs)


def _common(spec: ServerSpec, shown: bool) -> argparse.ArgumentParser:
    """--config and a flag per setting; `shown=False` accepts them without listing them in help."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="TOML config file." if shown else argparse.SUPPRESS)
    _add_settings_flags(common, spec, shown)
    return common


def _parser(spec: ServerSpec) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=spec.program,
        description=f"{spec.summary} Without a subcommand, serves MCP (stdio unless --transport http).",
        parents=[_common(spec, shown=True)],
    )
    parser.add_argument("--version", action="version", version=f"{spec.program} {package_version()}")
    parser.add_argument("--print-config", action="store_true", help="Print the effective config (secrets masked) and exit.")
    parser.add_argument(
        "--describe", action="store_true", help="Print the server's name, summary and default port as JSON and exit."
    )
    if spec.commands:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        hidden = _common(spec, shown=False)  # a subcommand's help lists its own flags; the settings still apply
        settings_note = f"The settings flags of {spec.program} (--config, ...; see {spec.program} --help) apply too."
        for command in spec.commands:
            command.add_arguments(sub.add_parser(command.name, help=command.help, description=command.help, epilog=settings_note, parents=[hidden]))
    return parser


def _settings_from(spec: ServerSpec, args: argparse.Namespace) -> ServerSettings:
    cli = {name: getattr(args, name) for name in spec.settings.model_fields if hasattr(args, name)}
    explicit = getattr(args, "config", None)
    config_file = explicit or paths.config_file()
    return load_settings(spec.settings, spec.name, cli, config_file, explicit_file=explicit is not None)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def build(spec: ServerSpec, settings: ServerSettings) -> MCPServer:
    """The server with its tools, plus `server_info`."""
    server = spec.build(settings)
    add_server_info(
        server,
        ServerInfo(name=spec.program, version=package_version(), transport=settings.transport, settings=masked(settings)),
    )
    return server


def serve(spec: ServerSpec, settings: ServerSettings) -> None:
    server = build(spec, settings)
    if settings.transport == "http":
        anyio.run(serve_http, server, settings, settings.port or spec.default_port)
    else:
        limits = {"max_message_bytes": mib(settings.max_message_mb), "max_depth": settings.max_json_depth}
        anyio.run(partial(serve_stdio, server, **limits))


def run(spec: ServerSpec, argv: Sequence[str] | None = None) -> int:
    """Entry point of `memento-<name>`: parse, configure, then serve or run a subcommand."""
    args = _parser(spec).parse_args(argv)
    if args.describe:
        print(json.dumps({"name": spec.program, "summary": spec.summary, "default_port": spec.default_port}))
        return 0
    try:
        settings = _settings_from(spec, args)
        configure_logging(settings.log_level)
        if args.print_config:
            print(json.dumps(masked(settings), indent=2, default=str))
            return 0
        command = next((c for c in spec.commands if c.name == getattr(args, "command", None)), None)
        if command is not None:
            return command.run(settings, args) or 0
        serve(spec, settings)
        return 0
    except MementoError as exc:  # ConfigError, or a subcommand's domain error
        print(f"{spec.program}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def main_for(spec: ServerSpec) -> Callable[[], None]:
    """A console-script entry point for `spec`."""

    def main() -> None:
        sys.exit(run(spec))

    return main


def launch() -> None:
    """The console script of every server (`memento-<name>`): one line naming the extra to install when the
    server's is missing, instead of an import error; else the server registered as `name` in `memento.servers`."""
    name = Path(sys.argv[0]).stem.removeprefix("memento-")
    advice = extra_advice(f"memento-{name}", name)
    if advice is not None:
        print(advice, file=sys.stderr)
        sys.exit(2)
    (server,) = entry_points(group="memento.servers", name=name)
    server.load()()

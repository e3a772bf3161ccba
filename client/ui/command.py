"""The `memento ui` subcommand: its flags, and serving the app until Ctrl-C."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8790


def add_parser(sub: Any) -> None:
    ui = sub.add_parser("ui", help="Browse runs, trajectories and the case bank in a local web app.")
    ui.add_argument("--host", default="127.0.0.1", help="Bind address (beyond loopback only with --token).")
    ui.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT}).")
    ui.add_argument("--token", default=os.environ.get("MEMENTO_TOKEN"), help="Token the browser must give once (/?token=...); else MEMENTO_TOKEN.")
    ui.add_argument("--memory-server", default="memory", help="The mcp.json entry holding the case bank (stdio or HTTP).")
    ui.add_argument("--mcp-config", type=Path, help="mcp.json to use (default ./mcp.json, else embedded).")
    ui.add_argument("--config", type=Path, help="TOML config file.")


def run(args: argparse.Namespace, config: Any) -> int:
    import uvicorn

    from memento_client.mcp.config import load_mcp_config
    from memento_client.ui.security import Guard
    from memento_client.ui.server import build_app

    guard = Guard(args.host, (args.token or "").strip() or None)
    guard.check_bind()
    memory = [e for e in load_mcp_config(config.mcp_config) if e.name == args.memory_server]
    app = build_app(config, memory, guard)
    print(f"memento ui: http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    uvicorn.run(app, host=args.host.strip("[]"), port=args.port, log_level="warning", timeout_graceful_shutdown=2)
    return 0

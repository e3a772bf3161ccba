"""Where memento keeps its config, data and caches.

`MEMENTO_HOME` moves all three under one folder (tests point it at a temp dir);
otherwise the platform's user dirs are used.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "memento"


def _home() -> Path | None:
    home = os.environ.get("MEMENTO_HOME")
    return Path(home).expanduser() if home else None


def config_dir() -> Path:
    home = _home()
    return home if home else Path(platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP))


def cache_dir() -> Path:
    home = _home()
    return home / "cache" if home else Path(platformdirs.user_cache_dir(APP))


def default_config_file() -> Path:
    return config_dir() / "config.toml"


def config_file() -> Path:
    """The config file to read when none is named on the command line: `$MEMENTO_CONFIG` or the default."""
    named = os.environ.get("MEMENTO_CONFIG")
    return Path(named).expanduser() if named else default_config_file()

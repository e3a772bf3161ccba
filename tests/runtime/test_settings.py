"""Settings layer: CLI flags > environment > TOML file > defaults, secrets masked, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from memento_core.errors import ConfigError
from memento_core.settings import ServerSettings, load_settings, masked
from tests.harness import script


class Example(ServerSettings):
    limit: int = 5
    roots: list[str] = []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_apply_without_any_source(tmp_path):
    settings = load_settings(Example, "example", {}, tmp_path / "absent.toml", explicit_file=False)
    assert settings.limit == 5 and settings.transport == "stdio" and settings.host == "127.0.0.1"


def test_each_layer_overrides_the_one_below(tmp_path, monkeypatch):
    config = _write(tmp_path, 'log_level = "WARNING"\nport = 1000\n[example]\nlimit = 7\nport = 1001\n')
    from_file = load_settings(Example, "example", {}, config, explicit_file=True)
    assert (from_file.limit, from_file.port, from_file.log_level) == (7, 1001, "WARNING")

    monkeypatch.setenv("MEMENTO_EXAMPLE_LIMIT", "8")
    monkeypatch.setenv("MEMENTO_PORT", "1002")
    monkeypatch.setenv("MEMENTO_EXAMPLE_ROOTS", "/a, /b")
    from_env = load_settings(Example, "example", {}, config, explicit_file=True)
    assert (from_env.limit, from_env.port, from_env.roots) == (8, 1002, ["/a", "/b"])

    from_cli = load_settings(Example, "example", {"limit": 9, "roots": ["/c"]}, config, explicit_file=True)
    assert (from_cli.limit, from_cli.roots) == (9, ["/c"])


def test_server_specific_env_beats_common_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMENTO_PORT", "1002")
    monkeypatch.setenv("MEMENTO_EXAMPLE_PORT", "1003")
    assert load_settings(Example, "example", {}, None, explicit_file=False).port == 1003


def test_invalid_values_name_the_field(tmp_path):
    with pytest.raises(ConfigError, match="limit"):
        load_settings(Example, "example", {"limit": "many"}, None, explicit_file=False)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Example, "example", {}, tmp_path / "missing.toml", explicit_file=True)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(Example, "example", {}, _write(tmp_path, "limit = = 3"), explicit_file=True)


def test_secrets_are_masked():
    assert masked(Example(token="hunter2"))["token"] == "***"


def test_print_config_shows_effective_values_with_secret_masked(tmp_path):
    config = _write(tmp_path, '[documents]\nlog_level = "ERROR"\n')
    done = subprocess.run(
        [script("documents"), "--config", str(config), "--print-config", "--port", "9999", "--token", "hunter2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["port"] == 9999 and shown["log_level"] == "ERROR" and shown["token"] == "***"
    assert "hunter2" not in done.stdout + done.stderr


def test_bad_flag_value_exits_with_a_message():
    done = subprocess.run([script("documents"), "--port", "99999"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "port" in done.stderr


def test_memento_config_names_the_file_read_without_config_flag(tmp_path):
    config = _write(tmp_path, "[documents]\nport = 4321\n")
    done = subprocess.run(
        [script("documents"), "--print-config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MEMENTO_CONFIG": str(config)},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["port"] == 4321

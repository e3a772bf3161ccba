"""The shipped deployment examples agree with each other and with the servers' real settings."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
import yaml

from memento_core.settings import env_names
from memento_memory.server import MemorySettings
from tests.harness import free_port, wait_for_port

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "memento-memory@.service"


def example_env() -> dict[str, str]:
    lines = (DEPLOY / "memory.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_example_environment_names_only_real_settings():
    known = {name for field in MemorySettings.model_fields for name in env_names("memory", field)}
    names = set(example_env())
    assert {name for name in names if name.startswith("MEMENTO_")} <= known
    assert names - known <= {"AWS_REGION"}


def test_the_compose_file_feeds_haproxy_every_variable_its_config_uses():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    used = set(re.findall(r"\$\{(\w+)\}", (DEPLOY / "haproxy.cfg").read_text()))
    assert set(compose["services"]["balancer"]["environment"]) == used
    port = re.search(r'"--port", "(\d+)"', (DEPLOY / "Dockerfile").read_text()).group(1)
    replicas = {value for name, value in compose["services"]["balancer"]["environment"].items() if name.startswith("MEMENTO_MEMORY_") and name[-1].isdigit()}
    assert replicas == {f"memory-1:{port}", f"memory-2:{port}"}


def test_the_systemd_unit_verifies_and_its_command_serves(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing (the systemd package)")
    port = free_port()
    env_file = tmp_path / "memory.env"
    env_file.write_text(f"MEMENTO_MEMORY_DB={tmp_path / 'bank'}\nMEMENTO_TOKEN=unit-token\nMEMENTO_MEMORY_MODEL=feature-hash\n")
    unit = (
        UNIT.read_text()
        .replace("/opt/memento/.venv/bin", str(Path(sys.executable).parent))
        .replace("User=memento", "User=root")
        .replace("/etc/memento/memory.env", str(env_file))
    )
    local = tmp_path / f"memento-memory@{port}.service"
    local.write_text(unit)
    verified = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and "Unknown" not in verified.stderr, verified.stderr
    command = shlex.split(re.search(r"^ExecStart=(.+)$", unit, re.M).group(1).replace("%i", str(port)))
    env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": str(tmp_path)}
    env.update(line.split("=", 1) for line in env_file.read_text().splitlines())
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process, timeout=30)
        response = httpx2.post(f"http://127.0.0.1:{port}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert response.status_code == 401  # the token from the environment file is enforced
    finally:
        process.terminate()
        process.wait(15)

"""Every server starts the same way from its console script and from `python -m`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.harness import SERVERS, script

MODULES = {name: f"memento_servers.{name}" for name in SERVERS} | {"memory": "memento_memory"}


def describe(command: list[str]) -> dict:
    done = subprocess.run([*command, "--describe"], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("server", SERVERS)
def test_python_dash_m_runs_the_server_s_own_command(server):
    from_module = describe([sys.executable, "-m", MODULES[server]])
    assert from_module == describe([script(server)])
    assert from_module["name"] == f"memento-{server}" and from_module["summary"] and from_module["default_port"] > 0

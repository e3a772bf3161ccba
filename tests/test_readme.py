"""The README's servers-and-tools table matches the tools the servers really list; its CaseBank snippet runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import SERVERS, connect

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[1] / "README.md"


def documented_tools() -> set[tuple[str, str]]:
    text = README.read_text()
    table = text.split("<!-- tools-table:start -->")[1].split("<!-- tools-table:end -->")[0]
    return set(re.findall(r"^\| (memento-\w+) \| `(\w+)` \|", table, flags=re.MULTILINE))


async def test_readme_tool_table_matches_live_tools():
    live = set()
    for server in SERVERS:
        async with connect(server) as client:
            live |= {(f"memento-{server}", tool.name) for tool in (await client.list_tools()).tools}
    documented = documented_tools()
    assert not live - documented, f"tools missing from README: {sorted(live - documented)}"
    assert not documented - live, f"README lists tools that do not exist: {sorted(documented - live)}"


def test_the_casebank_snippet_runs_as_written(tmp_path):
    snippet = re.search(r"```python\n(from memento_memory import CaseBank\n.*?)```", README.read_text(), re.DOTALL).group(1)
    code = snippet.replace('"/tmp/cases"', repr(str(tmp_path / "cases"))) + "    print(len(bank.list()))\n"  # inside its `with`
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "2"

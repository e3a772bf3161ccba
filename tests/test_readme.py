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


def host_snippets() -> list[tuple[list[str], str, str]]:
    """(flags, language, text) of each `<!-- host:FORMAT [FLAGS] -->` snippet of the hosts section."""
    found = re.findall(r"<!-- host:([^>]+?) -->\n```(\w+)\n(.*?)```", README.read_text(), re.DOTALL)
    return [(flags.split(), language, text) for flags, language, text in found]


def test_every_host_has_a_snippet():
    assert sorted(flags[0] for flags, _, _ in host_snippets()) == ["claude", "claude-code", "codex", "cursor", "vscode"]


@pytest.mark.parametrize("snippet", host_snippets(), ids=lambda s: " ".join(s[0]))
def test_host_snippets_are_what_memento_servers_prints(snippet, tmp_path, capsys):
    import json
    import tomllib

    from memento_client.cli import run

    (fmt, *flags), language, text = snippet
    assert run(["servers", "--format", fmt, *flags, "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out.replace(str(Path(sys.executable).parent), "/home/you/memento/.venv/bin")
    out = out.replace(str(tmp_path.resolve()), "/home/you/papers")
    parse = tomllib.loads if language == "toml" else json.loads
    documented, printed = parse(text), parse(out)
    key = {"codex": "mcp_servers", "vscode": "servers"}.get(fmt, "mcpServers")
    assert documented[key] and all(documented[key][name] == printed[key][name] for name in documented[key])
    assert {k: v for k, v in documented.items() if k != key} == {k: v for k, v in printed.items() if k != key}

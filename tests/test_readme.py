"""The README's servers-and-tools table matches the tools the servers really list; its CaseBank snippet, its
per-host configs and its shell lines are what the code does."""

from __future__ import annotations

import os
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


# ---- the README's shell lines --------------------------------------------------------------------------
# Each shell line of the README is run here (servers with --print-config, which parses and validates every
# flag without serving), or is skipped for a stated reason. A new line must be classified.
SKIPPED = {
    "make": "installs everything (what CI runs)",
    "pipx": "installs from the package index",
    "uv": "installs from the package index",
    "uvx": "installs from the package index",
    "python3": "creates a virtualenv and installs",
    "python": "benchmarks take minutes",
    ".venv/bin/python": "the test suite itself",
    "memento ask": "needs a model endpoint",
    "memento eval": "needs a model endpoint",
    "memento rate": "needs a finished run",
    "memento show": "needs a finished run",
    "memento ui": "serves the web UI until stopped (tests/ui drives it)",
    "sudo": "installs a system package",
    "export": "sets the variables of the lines that follow",
    "env": "starts HAProxy in front of running replicas (tests/scale/test_replicas.py runs that config)",
}
SERVES = ("memento-search", "memento-crawl", "memento-documents", "memento-code", "memento-memory")


def shell_lines() -> list[str]:
    """Every command of the README's sh/bash blocks (and of bare blocks of memento commands), one per entry."""
    commands = []
    for language, body in re.findall(r"```(\w*)\n(.*?)```", README.read_text(), re.DOTALL):
        text = body.replace("\\\n", " ")
        lines = [re.sub(r"(^|\s)#.*$", "", line).strip() for line in text.splitlines()]  # comments off
        lines = [line for line in lines if line]
        if language in ("sh", "bash") or (language == "" and lines and all(line.startswith("memento") for line in lines)):
            commands += [part.strip() for line in lines for part in line.split(";") if part.strip()]
    return commands


def skip_reason(command: str) -> str | None:
    words = command.split()
    return SKIPPED.get(" ".join(words[:2])) or SKIPPED.get(words[0])


def test_every_readme_shell_line_is_run_or_skipped_for_a_reason():
    unknown = [c for c in shell_lines() if not skip_reason(c) and c.split()[0] not in (*SERVES, "memento")]
    assert not unknown, f"classify these README lines in tests/test_readme.py: {unknown}"


def test_the_readme_shell_lines_that_can_run_offline_do(tmp_path):
    import shlex

    from tests.memory.conftest import MEMENTO_CASES, MEMENTO_TRAINING

    home = tmp_path / "home"
    for folder in ("papers", "downloads", "notes"):
        (home / folder).mkdir(parents=True)
    (home / "papers" / "tides.md").write_text("# Tides\nThe harbour floods at spring tide.\n")
    (home / "notes" / "corpus.jsonl").write_text('{"_id": "n1", "title": "Bread", "text": "Sourdough needs a starter."}\n')
    shared = {
        "../shared/data/memory/memento_memory.jsonl": str(MEMENTO_CASES),
        "../shared/data/memory/memento_training_data.jsonl": str(MEMENTO_TRAINING),
    }
    env = {**os.environ, "HOME": str(home), "MEMENTO_MEMORY_MODEL": "feature-hash", "MEMENTO_SEARCH_LOCAL_MODE": "fts"}
    ran = []
    for command in shell_lines():
        if skip_reason(command):
            continue
        argv = [shared.get(word, word) for word in shlex.split(re.sub(r"\[([^\]]*)\]", r"\1", command))]  # [--json]: with it
        argv = [str(home / word[2:]) if word.startswith("~/") else word for word in argv]
        if argv[0] in SERVES and (len(argv) == 1 or argv[1].startswith("-")):
            argv.append("--print-config")  # parse and validate the flags, do not serve
        done = subprocess.run(
            [str(Path(sys.executable).parent / argv[0]), *argv[1:]],
            capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0 and "Traceback" not in done.stderr, f"{command}\n{done.stderr[-2000:]}"
        ran.append(argv[0])
    assert set(ran) >= {*SERVES, "memento"}

"""Every server starts the same way from its console script and from `python -m`; a missing extra is one line."""

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


def without(tmp_path, hidden: str) -> str:
    """A Python whose site-packages is this one's minus the distribution `hidden` (its files and metadata):
    what a user has who installed memento without the extra that pulls `hidden` in."""
    from importlib.metadata import distribution
    from pathlib import Path

    site_packages = Path(distribution("mcp")._path).parent
    dropped = {Path(str(f)).parts[0] for f in distribution(hidden).files or [] if not str(f).startswith("..")}
    assert dropped, f"{hidden} has no files to hide"
    site = tmp_path / "site"
    site.mkdir()
    for entry in site_packages.iterdir():
        if entry.name not in dropped and entry.name != "__pycache__":
            (site / entry.name).symlink_to(entry)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    (own,) = (tmp_path / "venv" / "lib").glob("python3*/site-packages")
    (own / "linked.pth").write_text(f"import site; site.addsitedir({str(site)!r})\n")  # runs the editable finder's .pth too
    return str(tmp_path / "venv" / "bin" / "python")


SCRIPT = "import sys; sys.argv[0] = {program!r}; from {module} import {function}; sys.exit({function}())"


@pytest.mark.parametrize(
    ("program", "extra", "hidden", "args"),
    [
        ("memento-search", "search", "ddgs", ["--describe"]),
        ("memento-crawl", "crawl", "crawl4ai", []),
        ("memento-documents", "documents", "pymupdf", ["--root", "."]),
        ("memento-code", "code", "ipykernel", []),
        ("memento-memory", "memory", "lancedb", ["import", "cases.jsonl"]),
        ("memento", "client", "openai", ["ask", "What is Memento?"]),
    ],
)
def test_a_missing_extra_is_one_line_naming_the_install_command(tmp_path, program, extra, hidden, args):
    python = without(tmp_path, hidden)
    module, function = ("memento_client.cli", "main") if program == "memento" else ("memento_servers.runtime.cli", "launch")
    code = SCRIPT.format(program=program, module=module, function=function)
    done = subprocess.run([python, "-c", code, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    (line,) = done.stderr.splitlines()
    speaker = "memento:" if program == "memento" else program
    assert line.startswith(f"{speaker} needs the [{extra}] extra (") and hidden in line
    assert line.endswith(f"pip install 'memento-agent[{extra}]'")


def test_help_shows_defaults_and_a_subcommand_s_help_only_its_own_flags():
    def helptext(*argv: str) -> str:
        done = subprocess.run([script(argv[0]), *argv[1:], "--help"], capture_output=True, text=True, timeout=120, check=True)
        return " ".join(done.stdout.split())  # argparse wraps lines

    documents = helptext("documents")
    assert "Largest file or download converted, in MiB. (default: 50)" in documents and "(default: stdio)" not in documents
    subcommand = helptext("memory", "import")
    assert "--tag TAG" in subcommand and "--quiet" in subcommand
    assert "--db" not in subcommand and "--transport" not in subcommand  # the server's settings are not repeated
    assert "The settings flags of memento-memory" in subcommand


def test_memento_servers_leaves_out_a_server_whose_extra_is_missing(tmp_path):
    python = without(tmp_path, "crawl4ai")
    code = SCRIPT.format(program="memento", module="memento_client.cli", function="main")
    done = subprocess.run([python, "-c", code, "servers", "--format", "json"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["mcpServers"]) == {"search", "documents", "code", "memory"}
    assert "memento: left out: memento-crawl needs the [crawl] extra (crawl4ai" in done.stderr

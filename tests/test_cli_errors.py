"""Every command line's error paths end in one line on stderr that says what to change: no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
UNREACHABLE_S3 = {  # a bucket behind a port nothing listens on
    "AWS_ENDPOINT": "http://127.0.0.1:9", "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
}  # fmt: skip

CASES = [
    # (command line, environment, what the line must say)
    (["memento", "ask", "q", "--model", "m", "--file", "missing.pdf"], {}, "--file"),
    (["memento", "ask", "q", "--model", "m", "--mcp-config", "missing.json"], {}, "MCP config missing.json does not exist"),
    (["memento", "ask", "q", "--config", "misspelt.toml"], {}, "modle"),
    (["memento", "ask", "q", "--config", "broken.toml"], {}, "cannot read config file"),
    (["memento", "eval", "--dataset", "missing.jsonl", "--model", "m"], {}, "does not exist"),
    (["memento", "show", "no-such-run"], {}, "memento runs"),
    (["memento", "rate", "no-such-run", "good"], {}, "memento runs"),
    (["memento", "servers", "--format", "claude", "--http"], {}, "stdio servers only"),
    (["memento-memory", "import", "missing.jsonl"], {}, "missing.jsonl"),
    (["memento-memory", "export", "no-folder/cases.jsonl"], {}, "no such folder"),
    (["memento-memory", "--db", "s3://bank/cases", "--model", "feature-hash", "stats"], UNREACHABLE_S3, "AWS_REGION"),
    (["memento-memory", "--model", "feature-hash", "--db", "s3://bank/cases"], UNREACHABLE_S3, "at s3://bank/cases"),  # serving
    (["memento-documents", "--root", "missing-folder", "--print-config"], {}, "not an existing folder"),
    (["memento-documents", "--root", "/", "--print-config"], {}, "--allow-filesystem-root"),
    (["memento-search", "index", "missing-folder"], {}, "missing-folder"),
    (["memento-crawl", "--config", "missing.toml"], {}, "does not exist"),
    (["memento-code", "--max-sessions", "0", "--print-config"], {}, "max_sessions"),
]


@pytest.mark.parametrize(("argv", "env", "says"), CASES, ids=[" ".join(c[0][:3]) for c in CASES])
def test_an_error_is_one_line_without_a_traceback(tmp_path, argv, env, says):
    (tmp_path / "misspelt.toml").write_text('log_level = "INFO"\n[client]\nmodle = "gpt-4o-mini"\n')
    (tmp_path / "broken.toml").write_text("x = [")
    command = [str(BIN / argv[0]), *argv[1:]]
    environment = {**os.environ, **env}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environment, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], done.stderr[-3000:]

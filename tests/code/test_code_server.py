"""memento-code over real MCP sessions: state, output, files, figures, timeouts, session lifecycle."""

from __future__ import annotations

import anyio
import pytest

from tests.harness import connect, error_text, payload

pytestmark = [pytest.mark.anyio, pytest.mark.sandbox]


async def run(client, code: str, session_id: str | None = None, **extra) -> dict:
    args = {"code": code, **({"session_id": session_id} if session_id else {}), **extra}
    return payload(await client.call_tool("run_python", args))


async def test_session_keeps_state_files_and_returns_output_errors_and_figures(transport):
    with anyio.fail_after(90):
        async with connect("code", transport) as client:
            first = await run(client, "import math\nx = 40\nx + 2")
            sid = first["session_id"]
            assert first["value"] == "42" and first["error"] is None and first["session_state"] == "idle"

            printed = await run(client, "import sys\nprint(x, math.pi > 3)\nprint('warn', file=sys.stderr)", sid)
            assert (printed["stdout"], printed["stderr"], printed["value"]) == ("40 True\n", "warn\n", None)

            failed = await run(client, "def boom():\n    return 1 / 0\nboom()", sid)
            assert failed["error"]["type"] == "ZeroDivisionError"
            assert "boom()" in failed["error"]["traceback"] and "site-packages" not in failed["error"]["traceback"]

            csv = {"path": "in/data.csv", "content": "a,b\n1,2\n3,4\n", "session_id": sid}
            written = payload(await client.call_tool("write_file", csv))
            assert written["size"] == 12
            pandas = "import pandas as pd\ndf = pd.read_csv('in/data.csv')\ndf.to_csv('out.csv')\nint(df.b.sum())"
            table = await run(client, pandas, sid)
            assert table["value"] == "6" and table["files_created"] == ["out.csv"]

            command = "wc -l < in/data.csv && echo made > made.txt"
            shell = payload(await client.call_tool("run_shell", {"command": command, "session_id": sid}))
            assert (shell["exit_code"], shell["stdout"].strip(), shell["files_created"]) == (0, "3", ["made.txt"])
            read = payload(await client.call_tool("read_file", {"path": "/workspace/made.txt", "session_id": sid}))
            assert read["content"] == "made\n" and read["next_offset"] is None
            listing = payload(await client.call_tool("list_files", {"session_id": sid}))
            assert {e["path"] for e in listing["entries"]} == {"in", "in/data.csv", "out.csv", "made.txt"}

            plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.title('t');"
            figure = await client.call_tool("run_python", {"code": plot, "session_id": sid})
            assert payload(figure)["images"] == 1
            assert [block.type for block in figure.content] == ["text", "image"]
            assert figure.content[1].mime_type == "image/png"

            big = await run(client, "print('y' * 50_000)", sid)
            assert "truncated" in big["stdout"] and len(big["stdout"]) < 21_000

            sessions = payload(await client.call_tool("list_sessions", {}))
            assert [s["session_id"] for s in sessions["sessions"]] == [sid] and sessions["sandboxed"]
            closed = payload(await client.call_tool("close_session", {"session_id": sid}))
            assert closed["state"] == "closed"
            assert "no open session" in error_text(await client.call_tool("run_python", {"code": "x", "session_id": sid}))


async def test_timeout_interrupts_runaway_code_and_the_session_recovers():
    with anyio.fail_after(90):
        async with connect("code", args=["--max-timeout-s", "60"]) as client:
            sid = (await run(client, "kept = 'still here'"))["session_id"]
            looping = await run(client, "while True:\n    pass", sid, timeout_s=1.5)
            assert looping["error"]["type"] == "Timeout" and looping["session_state"] == "idle"
            assert (await run(client, "kept", sid))["value"] == "'still here'"

            stubborn = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)"
            killed = await run(client, stubborn, sid, timeout_s=1.5)
            assert killed["error"]["type"] == "SessionDied" and killed["session_state"] == "dead"
            assert "reset_session" in error_text(await client.call_tool("run_python", {"code": "1", "session_id": sid}))

            reset = payload(await client.call_tool("reset_session", {"session_id": sid}))
            assert reset["state"] == "no_kernel"
            assert (await run(client, "'kept' in dir()", sid))["value"] == "False"
            too_long = await client.call_tool("run_python", {"code": "1", "session_id": sid, "timeout_s": 61})
            assert "at most 60" in error_text(too_long)

            outcome = {}

            async def sleeper():
                outcome["run"] = await run(client, "import time\ntime.sleep(30)", sid, timeout_s=20)

            async with anyio.create_task_group() as group:
                group.start_soon(sleeper)
                while payload(await client.call_tool("list_sessions", {}))["sessions"][0]["state"] != "busy":
                    await anyio.sleep(0.05)
                payload(await client.call_tool("reset_session", {"session_id": sid}))
            assert outcome["run"]["error"]["type"] == "SessionDied" and "reset_session" in outcome["run"]["error"]["message"]
            assert (await run(client, "'fresh'", sid))["value"] == "'fresh'"


async def test_session_cap_evicts_the_longest_idle_session_and_idle_sessions_expire():
    with anyio.fail_after(60):
        args = ["--max-sessions", "1", "--warm-kernels", "0", "--idle-timeout-s", "4"]
        async with connect("code", args=args) as client:
            first = payload(await client.call_tool("write_file", {"path": "a.txt", "content": "x"}))["session_id"]
            assert "outside the workspace" in error_text(
                await client.call_tool("read_file", {"path": "/etc/passwd", "session_id": first})
            )
            second = payload(await client.call_tool("write_file", {"path": "b.txt", "content": "y"}))["session_id"]
            assert "no open session" in error_text(await client.call_tool("list_files", {"session_id": first}))
            assert "no open session" in error_text(await client.call_tool("list_files", {"session_id": "nope"}))

            async def busy():
                await client.call_tool("run_shell", {"command": "sleep 2", "session_id": second})

            async with anyio.create_task_group() as group:
                group.start_soon(busy)
                while payload(await client.call_tool("list_sessions", {}))["sessions"][0]["state"] != "busy":
                    await anyio.sleep(0.05)
                full = error_text(await client.call_tool("run_shell", {"command": "true"}))
                assert "busy" in full and "limit" in full

            while payload(await client.call_tool("list_sessions", {}))["sessions"]:
                await anyio.sleep(0.5)  # closed once idle for 4 s
            assert "no open session" in error_text(await client.call_tool("list_files", {"session_id": second}))
            assert payload(await client.call_tool("run_shell", {"command": "true"}))["exit_code"] == 0


async def test_without_bubblewrap_the_server_refuses_to_run_code_and_names_the_fix():
    with anyio.fail_after(60):
        async with connect("code", args=["--bwrap", "/nonexistent/bwrap", "--warm-kernels", "0"]) as client:
            message = error_text(await client.call_tool("run_python", {"code": "1"}))
            assert "apt-get install bubblewrap" in message and "--unsafe-no-sandbox" in message
            assert payload(await client.call_tool("list_sessions", {}))["sandboxed"]


async def test_unsafe_mode_runs_code_unsandboxed_only_when_asked():
    with anyio.fail_after(60):
        async with connect("code", args=["--unsafe-no-sandbox", "--warm-kernels", "0"]) as client:
            result = await run(client, "import os\nos.getcwd()")
            assert result["value"].strip("'").endswith("/workspace") and result["value"] != "'/workspace'"
            assert not payload(await client.call_tool("list_sessions", {}))["sandboxed"]

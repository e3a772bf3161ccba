"""Fixtures of the UI tests, built once per session: real eval runs (the fake OpenAI server as the model,
the toy and real memory MCP servers as tools), the UI served by uvicorn on loopback, and one headless
system Chromium driven by Playwright.

Set MEMENTO_UI_SCREENSHOTS=<folder> to save the README's screenshots while the tests run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from memento_client.cli import run as memento
from memento_client.config import ClientConfig
from memento_client.mcp.config import load_mcp_config
from memento_client.ui.security import Guard
from memento_client.ui.server import build_app
from tests.client.scripted import AgentScript
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest, Reply, serve

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
QUESTIONS = [
    {"id": "q1", "data_source": "nq", "question": "Capital of France?", "answers": ["Paris"]},
    {"id": "q2", "data_source": "nq", "question": "Largest planet?", "answers": ["Jupiter"]},
    {"id": "q3", "data_source": "hotpotqa", "question": "44th US president?", "answers": ["Barack Obama"]},
    {"id": "q4", "data_source": "hotpotqa", "question": "Author of Dune?", "answers": ["Frank Herbert"]},
]
ANSWERS = {"Capital of France?": "Paris.", "Largest planet?": "Jupiter", "44th US president?": "Barack Obama Jr.", "Author of Dune?": "Isaac Asimov"}
OFF, SIMILARITY = "eval-memory-off", "eval-similarity"  # the two runs every test sees


class SlowScript:
    """The scripted agent, each reply held back `delay` seconds (to watch an eval run live)."""

    def __init__(self) -> None:
        self.script = AgentScript(answers=ANSWERS, tool=("toy__echo", {"text": "look"}))
        self.delay = 0.0

    def __call__(self, request: RecordedRequest) -> Reply:
        time.sleep(self.delay)
        return self.script(request)


@pytest.fixture(scope="session")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("ui-home")


@pytest.fixture(autouse=True)
def _ui_home(home, monkeypatch):
    """Every UI test (and the server thread, which reads the environment per request) sees the session's runs."""
    monkeypatch.setenv("MEMENTO_HOME", str(home))


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    fake.responder = SlowScript()
    stop = serve(fake)
    yield fake
    stop()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, home, fake) -> Path:
    """A question set and an mcp.json with the toy server and the real memory server (feature-hash embeddings)."""
    ws = tmp_path_factory.mktemp("ui-workspace")
    (ws / "questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    toy = {"command": sys.executable, "args": ["-m", "tests.client.toy_server"], "cwd": str(REPO)}
    memory = {"command": sys.executable, "args": ["-m", "memento_memory", "--db", str(ws / "bank"), "--model", "feature-hash"], "cwd": str(REPO)}
    (ws / "mcp.json").write_text(json.dumps({"mcpServers": {"toy": toy, "memory": memory}}))
    (ws / "toy.json").write_text(json.dumps({"mcpServers": {"toy": toy}}))
    return ws


def eval_env(home: Path, fake: FakeOpenAI) -> dict[str, str]:
    return {"MEMENTO_HOME": str(home), "OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "test", "MEMENTO_CLIENT_MODEL": "fake-model"}


def eval_args(ws: Path, out: Path, mcp: str, *extra: str) -> list[str]:
    return ["eval", "--dataset", str(ws / "questions.jsonl"), "--mcp-config", str(ws / mcp), "--out", str(out), "--json", *extra]


@pytest.fixture(scope="session")
def runs(home, fake, workspace) -> dict[str, Path]:
    """Two real eval runs: memory off (1 iteration, toy server only) and similarity memory (2 iterations)."""
    root = home / "data" / "runs"
    off = eval_process(home, fake, eval_args(workspace, root / OFF, "toy.json", "--memory", "off"))  # meanwhile:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in eval_env(home, fake).items():
            patch.setenv(name, value)
        assert memento(eval_args(workspace, root / SIMILARITY, "mcp.json", "--memory", "similarity", "--iterations", "2")) == 0
    assert off.wait(120) == 0
    return {OFF: root / OFF, SIMILARITY: root / SIMILARITY}


def eval_process(home: Path, fake: FakeOpenAI, args: list[str]) -> subprocess.Popen:
    """`memento eval` in its own process."""
    command = [sys.executable, "-c", "from memento_client.cli import main; main()", *args]
    env = {**os.environ, **eval_env(home, fake)}
    return subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, name="memento-ui", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def ui(runs, workspace) -> Iterator[str]:
    """The UI over the session's runs and case bank (the memory server over stdio MCP, as `memento ui` starts it)."""
    config = ClientConfig(mcp_config=workspace / "mcp.json")
    memory = [e for e in load_mcp_config(config.mcp_config) if e.name == "memory"]
    with serving(build_app(config, memory, Guard("127.0.0.1"), poll_s=0.2)) as url:
        yield url


@pytest.fixture(scope="package")
def browser(ui):
    """Chromium, after the evals and the server. Playwright's sync API holds an event loop in this thread
    while it runs, so it ends with this folder's tests: anyio tests collected after them need the thread."""
    if not CHROMIUM.exists():
        pytest.skip("needs the system Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, ui):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"the page raised: {errors}"


def snap(page, name: str) -> None:
    """Save a screenshot for the README when MEMENTO_UI_SCREENSHOTS names a folder."""
    folder = os.environ.get("MEMENTO_UI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

"""Attacks on `memento ui` over real HTTP: changes without the page's CSRF token or from another Origin,
a foreign Host header (DNS rebinding), binding beyond loopback without a token, requests without the
token, and run or case names that try to leave the runs folder."""

from __future__ import annotations

import re

import httpx
import pytest

from memento_client.cli import run as memento
from memento_client.config import ClientConfig
from memento_client.ui.security import Guard
from memento_client.ui.server import build_app
from memento_core.errors import ConfigError
from tests.ui.conftest import SIMILARITY, serving


def _session(ui: str) -> tuple[httpx.Client, str]:
    """A client holding the page's session cookie, and the CSRF token the page carries."""
    client = httpx.Client(base_url=ui, timeout=30)
    page = client.get("/")
    return client, re.search(r'name="csrf-token" content="([0-9a-f]+)"', page.text).group(1)


def _a_case(client: httpx.Client) -> str:
    return client.get("/api/bank/cases", params={"limit": 1}).json()["cases"][0]["id"]


def test_a_change_needs_the_sessions_csrf_token_and_this_origin(ui):
    client, csrf = _session(ui)
    case = _a_case(client)
    url, body = f"/api/bank/cases/{case}", {"action": "quarantine"}
    same_origin = {"origin": ui}
    assert client.post(url, json=body, headers=same_origin).status_code == 403  # no token
    assert client.post(url, json=body, headers={**same_origin, "x-csrf-token": "0" * 64}).status_code == 403
    assert client.post(url, json=body, headers={"origin": "http://evil.example", "x-csrf-token": csrf}).status_code == 403
    assert client.post(url, json=body, headers={"x-csrf-token": csrf}).status_code == 403  # no Origin at all
    other, other_csrf = _session(ui)
    assert client.post(url, json=body, headers={**same_origin, "x-csrf-token": other_csrf}).status_code == 403  # another session's
    assert client.get(f"/api/bank/cases/{case}").json()["case"]["trust"] == "trusted"  # nothing changed
    done = client.post(url, json={"action": "restore"}, headers={**same_origin, "x-csrf-token": csrf})
    assert done.status_code == 200 and done.json()["trust"] == "trusted"


def test_a_foreign_host_header_is_refused(ui):
    refused = httpx.get(f"{ui}/api/runs", headers={"host": "evil.example"})
    assert refused.status_code == 400 and "DNS rebinding" in refused.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/..%2F..%2F..%2Fetc",
        "/api/runs/%2E%2E",
        "/api/runs/..",
        "/api/runs/%2Fetc%2Fpasswd",
        "/api/runs/outside",  # a symlink out of the runs folder
        f"/api/runs/{SIMILARITY}%2F..%2F..",
        "/api/compare?a=..&b=" + SIMILARITY,
        "/api/runs/..%2F..%2Fetc/live",
    ],
)
def test_run_names_cannot_leave_the_runs_folder(ui, home, tmp_path, path):
    (tmp_path / "config.json").write_text("{}")
    link = home / "data" / "runs" / "outside"
    link.symlink_to(tmp_path, target_is_directory=True)
    try:
        refused = httpx.get(ui + path)
    finally:
        link.unlink()
    assert refused.status_code == 404 and "root:" not in refused.text  # unrouted (Not Found) or refused by name (no run)


def test_task_and_case_names_are_checked(ui):
    assert httpx.get(f"{ui}/api/runs/{SIMILARITY}/tasks/..%2F..%2Fconfig.json").status_code == 404  # unrouted
    for task in ("%2E%2E", "..%5C..", "q1%00"):
        refused = httpx.get(f"{ui}/api/runs/{SIMILARITY}/tasks/{task}")
        assert refused.status_code == 400 and "has no task" in refused.json()["error"]
    refused = httpx.get(f"{ui}/api/bank/cases/%2E%2E%5Cetc")
    assert refused.status_code == 400 and "not a case id" in refused.json()["error"]
    assert httpx.get(f"{ui}/static/..%2F..%2Fserver.py").status_code == 404


def test_binding_beyond_loopback_needs_a_token(capsys, monkeypatch):
    monkeypatch.delenv("MEMENTO_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="needs a token"):
        Guard("0.0.0.0").check_bind()
    Guard("0.0.0.0", "s3cret").check_bind()
    Guard("::1").check_bind()
    assert memento(["ui", "--host", "0.0.0.0", "--token", "  "]) == 2  # a blank token is no token
    assert "refusing to bind 0.0.0.0" in capsys.readouterr().err


def test_with_a_token_every_request_needs_it():
    app = build_app(ClientConfig(), [], Guard("127.0.0.1", "s3cret"))
    with serving(app) as url:
        assert httpx.get(f"{url}/api/runs").status_code == 401
        assert httpx.get(f"{url}/").status_code == 401
        assert httpx.get(f"{url}/?token=wrong").status_code == 401
        assert httpx.get(f"{url}/api/runs", headers={"authorization": "Bearer s3cret"}).status_code == 200
        with httpx.Client(base_url=url) as browser:
            login = browser.get("/?token=s3cret")
            assert login.status_code == 303 and login.headers["location"] == "/"  # the token leaves the address bar
            assert browser.get("/").status_code == 200 and browser.get("/api/runs").status_code == 200  # by cookie
        assert httpx.get(f"{url}/api/health", headers={"authorization": "Bearer s3cret"}).json()["error"].startswith("the case bank is not reachable")


def test_the_page_loads_nothing_from_elsewhere(ui):
    page = httpx.get(f"{ui}/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    script = httpx.get(f"{ui}/static/app.js").text
    assert "innerHTML" not in script and "http://" not in script.replace("http://www.w3.org/2000/svg", "")

"""`memento ui`: a local web app over the run folders and the case bank (Starlette, served by uvicorn).
The page is static HTML and vanilla JS shipped in the package; everything it shows comes from the JSON
API below, and a running eval's progress streams as server-sent events."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from memento_client.config import ClientConfig
from memento_client.errors import ClientError, HostError
from memento_client.mcp.config import ServerEntry
from memento_client.mcp.host import Host
from memento_client.session import tool_session
from memento_client.ui import bank, runs
from memento_client.ui.security import SESSION_COOKIE, Guard, GuardMiddleware
from memento_core.errors import ConfigError

STATIC = Path(__file__).parent / "static"


@dataclass
class UIState:
    """What the handlers share: the memory server's session (None: why not in `bank_error`)."""

    host: Host | None = None
    bank_error: str = ""
    poll_s: float = 1.0  # how often the live stream looks at a running eval's files


def _json(value: Any, status: int = 200) -> JSONResponse:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return JSONResponse(json.loads(json.dumps(value, default=str)), status_code=status)


Handler = Callable[[Request], Awaitable[Response]]


def api(handler: Callable[[Request], Awaitable[Any]]) -> Handler:
    """A JSON endpoint: bad names are 404, bad input 400, a failing case bank 502, each with a readable error."""

    async def endpoint(request: Request) -> Response:
        try:
            return _json(await handler(request))
        except runs.UnknownRun as exc:
            return _json({"error": str(exc)}, 404)
        except ClientError as exc:
            return _json({"error": str(exc)}, 502)
        except (ConfigError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)

    return endpoint


def _host(request: Request) -> Host:
    state: UIState = request.app.state.ui
    if state.host is None:
        raise ClientError(f"the case bank is not reachable: {state.bank_error}")
    return state.host


def _list(request: Request, name: str) -> list[str]:
    return [t.strip() for t in request.query_params.get(name, "").split(",") if t.strip()]


def _float(request: Request, name: str) -> float | None:
    value = request.query_params.get(name, "")
    return float(value) if value else None


async def index(request: Request) -> Response:
    session = request.cookies.get(SESSION_COOKIE) or secrets.token_urlsafe(24)
    csrf = request.app.state.guard.csrf_token(session)
    page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{csrf}}", escape(csrf))
    response = HTMLResponse(page, headers={"content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'"})
    if SESSION_COOKIE not in request.cookies:
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict")
    return response


@api
async def list_runs(_: Request) -> Any:
    return runs.listing()


@api
async def run_detail(request: Request) -> Any:
    return runs.detail(runs.run_folder(request.path_params["run"]))


@api
async def task_trajectory(request: Request) -> Any:
    folder = runs.run_folder(request.path_params["run"])
    iteration = request.query_params.get("iteration")
    return runs.trajectory(folder, request.path_params["task"], int(iteration) if iteration else None)


@api
async def compare_runs(request: Request) -> Any:
    return runs.compare(runs.run_folder(request.query_params.get("a", "")), runs.run_folder(request.query_params.get("b", "")))


async def live(request: Request) -> Response:
    """Server-sent events: the run's progress whenever it changes, until it stops running."""
    try:
        folder = runs.run_folder(request.path_params["run"])
    except runs.UnknownRun as exc:
        return _json({"error": str(exc)}, 404)
    poll = request.app.state.ui.poll_s

    async def events() -> AsyncIterator[str]:
        last = None
        while True:
            now = runs.progress(folder)
            if now != last:
                yield f"data: {json.dumps(now, default=str)}\n\n"
                last = now
            if now["status"] != "running":
                return
            await anyio.sleep(poll)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"cache-control": "no-store"})


@api
async def bank_search(request: Request) -> Any:
    task = request.query_params.get("q", "").strip()
    if not task:
        raise ConfigError("type a task to search the case bank with")
    found = await bank.search(
        _host(request), task, int(request.query_params.get("k", "8")), _list(request, "tags"),
        request.query_params.get("source") or None, _float(request, "min_reward"),
        request.query_params.get("include_quarantined") == "1",
    )  # fmt: skip
    return {policy: result.model_dump(mode="json") for policy, result in found.items()}


@api
async def bank_list(request: Request) -> Any:
    trust = request.query_params.get("trust", "all")
    if trust not in ("all", "trusted", "quarantined"):
        raise ConfigError("trust is all, trusted or quarantined")
    page = await bank.browse(
        _host(request), int(request.query_params.get("offset", "0")), int(request.query_params.get("limit", "50")),
        _list(request, "tags"), request.query_params.get("source") or None, _float(request, "min_reward"), trust,
    )  # fmt: skip
    return page


@api
async def case_detail(request: Request) -> Any:
    """A case, the tasks that retrieved it (the bank's record, linked to local runs), and the run that wrote it."""
    host = _host(request)
    case = await bank.get(host, request.path_params["case"])
    found: dict[str, Any] = {"case": case.model_dump(mode="json"), "written_by": runs.local_run(case.run_id)}
    try:
        used = await bank.provenance(host, case.id)
    except ClientError as exc:  # e.g. a memory server older than the tool: the case still shows
        return {**found, "retrieved_by": [], "used_total": None, "provenance_error": str(exc)}
    return {**found, "retrieved_by": runs.retrieved_by(used.uses), "used_total": used.total, "provenance_error": None}


@api
async def case_change(request: Request) -> Any:
    body = await request.json()
    if not isinstance(body, dict):
        raise ConfigError("send a JSON object: {action, reward?}")
    reward = body.get("reward")
    return await bank.change(_host(request), request.path_params["case"], str(body.get("action")), float(reward) if reward is not None else None)


@api
async def health(request: Request) -> Any:
    return {"stats": (await bank.stats(_host(request))).model_dump(mode="json"), "history": runs.loss_history()}


def build_app(config: ClientConfig, memory: list[ServerEntry], guard: Guard, poll_s: float = 1.0) -> Starlette:
    """The UI app; its lifespan holds the memory server's MCP session (stdio started, or HTTP connected)."""
    state = UIState(poll_s=poll_s)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if not memory:
                state.bank_error = "no memory server in the MCP config (see --memory-server)"
            else:
                try:
                    state.host = await stack.enter_async_context(tool_session(config, entries=memory))
                except HostError as exc:
                    state.bank_error = str(exc)
            if state.host is not None and state.host.failed:
                state.bank_error = "; ".join(state.host.failed.values())
            yield

    routes = [
        Route("/", index),
        Route("/api/runs", list_runs),
        Route("/api/runs/{run}", run_detail),
        Route("/api/runs/{run}/live", live),
        Route("/api/runs/{run}/tasks/{task}", task_trajectory),
        Route("/api/compare", compare_runs),
        Route("/api/bank/search", bank_search),
        Route("/api/bank/cases", bank_list),
        Route("/api/bank/cases/{case}", case_detail),
        Route("/api/bank/cases/{case}", case_change, methods=["POST"]),
        Route("/api/health", health),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ui, app.state.guard = state, guard
    app.add_middleware(GuardMiddleware, guard=guard)
    return app

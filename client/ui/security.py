"""The web UI's defences: it answers only to its own host names (DNS rebinding), asks for the token when
one is set (required to bind beyond loopback), and accepts a change only from its own page: same Origin
and the CSRF token of the browser's session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from memento_core.errors import ConfigError
from memento_core.netguard import is_loopback

SESSION_COOKIE, AUTH_COOKIE, CSRF_HEADER = "memento_ui_session", "memento_ui_auth", "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Guard:
    """The rules for one UI server: its bind host, its token (None: loopback only) and a per-process secret."""

    host: str
    token: str | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def check_bind(self) -> None:
        """The runtime's rule: beyond loopback only with a non-empty token."""
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(f"refusing to bind {self.host}: serving beyond loopback needs a token (--token or MEMENTO_TOKEN)")

    def _sign(self, what: str) -> str:
        return hmac.new(self.secret, what.encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, session: str) -> str:
        return self._sign(f"csrf:{session}")

    def host_allowed(self, host_header: str) -> bool:
        """Loopback names and the bind host; any name once a token guards the server (a rebound page has no token)."""
        try:
            name = urlsplit(f"//{host_header}").hostname or ""
        except ValueError:
            return False
        return self.token is not None or is_loopback(name) or name == self.host.strip("[]").lower()

    def authenticated(self, request: Request) -> bool:
        if self.token is None:
            return True
        cookie = request.cookies.get(AUTH_COOKIE, "")
        bearer = request.headers.get("authorization", "")
        return hmac.compare_digest(cookie, self._sign("auth")) or hmac.compare_digest(bearer, f"Bearer {self.token}")

    def change_allowed(self, request: Request) -> bool:
        """A change comes from this UI's page: its Origin is this server and it carries the session's CSRF token."""
        origin = request.headers.get("origin", "")
        if origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            return False
        session = request.cookies.get(SESSION_COOKIE, "")
        return bool(session) and hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), self.csrf_token(session))

    def login(self, request: Request) -> Response | None:
        """`/?token=...` with the right token: the auth cookie set and the token dropped from the address bar."""
        given = request.query_params.get("token")
        if self.token is None or given is None or not hmac.compare_digest(given, self.token):
            return None
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(AUTH_COOKIE, self._sign("auth"), httponly=True, samesite="strict")
        return response


class GuardMiddleware:
    """Applies `Guard` to every HTTP request before the app sees it."""

    def __init__(self, app: ASGIApp, guard: Guard):
        self.app, self.guard = app, guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        refusal = self._refusal(request)
        if refusal is not None:
            return await refusal(scope, receive, send)
        await self.app(scope, receive, send)

    def _refusal(self, request: Request) -> Response | None:
        if not self.guard.host_allowed(request.headers.get("host", "")):
            return JSONResponse({"error": "unknown Host header (DNS rebinding protection)"}, status_code=400)
        if not self.guard.authenticated(request):
            login = self.guard.login(request) if request.url.path == "/" else None
            return login or JSONResponse({"error": "token required: open /?token=<token> once, or send Authorization: Bearer <token>"}, status_code=401)
        if request.method not in SAFE_METHODS and not self.guard.change_allowed(request):
            return JSONResponse({"error": "refused: a change must come from this UI's page (Origin and CSRF token)"}, status_code=403)
        return None

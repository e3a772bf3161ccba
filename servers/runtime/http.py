"""Streamable HTTP serving: loopback by default, bearer-token auth, Host/Origin checks."""

from __future__ import annotations

import hmac
import json
import logging

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from memento_core.errors import ConfigError
from memento_core.netguard import LOOPBACK_NAMES, is_loopback
from memento_core.settings import ServerSettings

log = logging.getLogger(__name__)

MCP_PATH = "/mcp"


class BearerTokenMiddleware:
    """Answers 401 to any HTTP request that lacks `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "unauthorized", "error_description": "missing or wrong bearer token"})
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="memento"'),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, send)


def security_settings(settings: ServerSettings) -> TransportSecuritySettings:
    """Host/Origin allow-lists: loopback names, the bind host, and whatever the user adds."""
    hosts = {f"{name}:*" for name in LOOPBACK_NAMES}
    if not is_loopback(settings.host):
        hosts.add(f"{settings.host}:*")
    hosts.update(settings.allowed_hosts)
    origins = {f"http://{name}:*" for name in LOOPBACK_NAMES} | set(settings.allowed_origins)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


def bearer_token(settings: ServerSettings) -> str | None:
    """The token HTTP clients must send; an empty or blank one counts as no token at all."""
    token = settings.token.get_secret_value().strip() if settings.token is not None else ""
    return token or None


def check_bind(settings: ServerSettings) -> None:
    """Refuse to expose a server beyond loopback without a (non-empty) token."""
    if not is_loopback(settings.host) and bearer_token(settings) is None:
        raise ConfigError(
            f"refusing to bind {settings.host}: serving beyond loopback needs a bearer token "
            "(set a non-empty --token or MEMENTO_TOKEN), which clients then send as 'Authorization: Bearer <token>'"
        )


def build_app(server: MCPServer, settings: ServerSettings) -> ASGIApp:
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=MCP_PATH, transport_security=security_settings(settings), host=settings.host
    )
    token = bearer_token(settings)
    if token is not None:
        app = BearerTokenMiddleware(app, token)
    return app


async def serve_http(server: MCPServer, settings: ServerSettings, port: int) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn shuts down gracefully on either."""
    check_bind(settings)
    config = uvicorn.Config(
        build_app(server, settings),
        host=settings.host.strip("[]"),
        port=port,
        log_level=settings.log_level.lower(),
        log_config=None,
        lifespan="on",
    )
    log.info("serving %s over HTTP at http://%s:%d%s", server.name, settings.host, port, MCP_PATH)
    await uvicorn.Server(config).serve()

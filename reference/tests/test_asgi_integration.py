"""The provider around a real application under a real server (issue 15, items 1 to 3).

WebSocket handshakes to API routes are bearer-checked like any request (in Workers an upgrade is
an ordinary request); the wrapped application's lifespan runs with the server's; and an application
that fails mid-response gets no second response from the provider.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.routing import Route
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from oauth_reference import OAuthProvider
from oauth_reference import api_context
from oauth_reference import provider_helpers
from oauth_reference.machinery.asgi import Message
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import served_by_uvicorn


async def approve(request: Request) -> Response:
    """An /authorize that approves at once for user "ws-user" (the seed's example, minus the UI)."""
    helpers = provider_helpers(request.scope)
    auth_request = await helpers.parse_auth_request(request)
    done = await helpers.complete_authorization(
        auth_request, user_id="ws-user", scope=auth_request.scope, props={"name": "Alice"}
    )
    return RedirectResponse(done.redirect_to, 302)


async def grant_over_websocket(websocket: WebSocket) -> None:
    grant = api_context(websocket.scope)  # checked by the provider before the handshake reached us
    await websocket.accept()
    await websocket.send_json({"props": grant.props, "scope": grant.scope, "user": grant.user_id})
    await websocket.close()


async def public_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def websocket_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/authorize", approve),
            WebSocketRoute("/api/ws", grant_over_websocket),
            WebSocketRoute("/public/ws", public_websocket),
        ]
    )


def wrap(app: Any, **options: Any) -> OAuthProvider:
    """The natural one-app setup: the same application is the API handler and the default handler."""
    return OAuthProvider(
        api_route="/api/",
        api_handler=app,
        default_handler=app,
        authorize_endpoint="/authorize",
        token_endpoint="/oauth/token",
        client_registration_endpoint="/oauth/register",
        **options,
    )


def access_token(url: str, scope: str = "profile") -> str:
    """A client's whole flow over HTTP against the served provider."""
    with httpx.Client(base_url=url) as http:
        client = http.post("/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
        client_id = client.json()["client_id"]
        verifier, challenge = pkce_pair()
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": scope,
        }
        code = query_of(http.get("/authorize", params=query).headers["location"])["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
        return str(http.post("/oauth/token", data=form).json()["access_token"])


# ------------------------------------------------------------------------------- 1. WebSockets
def test_a_websocket_to_an_api_route_without_a_token_is_refused_with_the_bearer_challenge() -> None:
    with (
        served_by_uvicorn(wrap(websocket_app())) as url,
        pytest.raises(InvalidStatus) as refused,
        connect(url.replace("http", "ws") + "/api/ws"),
    ):
        pass
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="OAuth", resource_metadata="')
    assert response.headers["Cache-Control"] == "no-store"


def test_a_websocket_with_a_bad_token_is_refused_as_invalid_token() -> None:
    with served_by_uvicorn(wrap(websocket_app())) as url:
        headers = {"Authorization": "Bearer ws-user:AAAAAAAAAAAAAAAA:" + "x" * 32}
        with (
            pytest.raises(InvalidStatus) as refused,
            connect(url.replace("http", "ws") + "/api/ws", additional_headers=headers),
        ):
            pass
    response = refused.value.response
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert orjson.loads(response.body)["error"] == "invalid_token"


def test_a_websocket_with_a_valid_token_reaches_the_handler_with_the_grant() -> None:
    with served_by_uvicorn(wrap(websocket_app())) as url:
        token = access_token(url, scope="profile email")
        headers = {"Authorization": f"Bearer {token}"}
        with connect(url.replace("http", "ws") + "/api/ws", additional_headers=headers) as ws:
            received = orjson.loads(ws.recv(timeout=10))
    assert received == {"props": {"name": "Alice"}, "scope": ["profile", "email"], "user": "ws-user"}


def test_a_websocket_outside_the_api_routes_goes_to_the_default_handler_without_a_token() -> None:
    with served_by_uvicorn(wrap(websocket_app())) as url, connect(url.replace("http", "ws") + "/public/ws") as ws:
        assert ws.recv(timeout=10) == "hello"


class Recorder:
    """An ASGI server's side, in process: the messages an application sends."""

    def __init__(self, *incoming: Message) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.incoming:
            return self.incoming.pop(0)
        raise AssertionError("the application waited for a message the server will never send")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def types(self) -> list[str]:
        return [m["type"] for m in self.sent]


def websocket_scope(path: str, host: str = "127.0.0.1:8000", *, extension: bool = False) -> dict[str, Any]:
    return {
        "type": "websocket",
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", host.encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "extensions": {"websocket.http.response": {}} if extension else {},
    }


@pytest.mark.anyio
async def test_without_the_http_response_extension_a_refused_websocket_is_closed_unaccepted() -> None:
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    server = Recorder({"type": "websocket.connect"})
    await wrap(app)(websocket_scope("/api/ws"), server.receive, server.send)
    assert server.sent == [{"type": "websocket.close", "code": 1008}]  # the server answers 403
    assert called == []


@pytest.mark.anyio
async def test_a_websocket_for_a_host_the_provider_does_not_serve_is_refused() -> None:
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    server = Recorder({"type": "websocket.connect"})
    await wrap(app)(websocket_scope("/public/ws", "evil.example", extension=True), server.receive, server.send)
    assert server.types() == ["websocket.http.response.start", "websocket.http.response.body"]
    assert server.sent[0]["status"] == 400
    assert called == []


# -------------------------------------------------------------------------------- 2. lifespan
def lifespan_app(events: list[str], resource: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append(f"open {resource}")
        yield {"pool": resource}
        events.append(f"close {resource}")

    app = FastAPI(lifespan=lifespan)

    @app.get("/pool")
    async def pool(request: FastAPIRequest) -> dict[str, Any]:
        return {"pool": request.state.pool}

    return app


def test_the_wrapped_fastapi_lifespan_runs_under_uvicorn_and_its_state_reaches_requests() -> None:
    events: list[str] = []
    with served_by_uvicorn(wrap(lifespan_app(events, "db-pool"))) as url:
        assert events == ["open db-pool"]  # started once, though the app is both handlers
        assert httpx.get(f"{url}/pool").json() == {"pool": "db-pool"}
    assert events == ["open db-pool", "close db-pool"]


def test_each_distinct_handler_gets_its_lifespan() -> None:
    events: list[str] = []
    provider = OAuthProvider(
        api_route="/api/",
        api_handler=lifespan_app(events, "api"),
        default_handler=lifespan_app(events, "site"),
        authorize_endpoint="/authorize",
        token_endpoint="/oauth/token",
    )
    with served_by_uvicorn(provider):
        assert sorted(events) == ["open api", "open site"]
    assert sorted(events) == ["close api", "close site", "open api", "open site"]


@pytest.mark.anyio
async def test_a_handler_that_fails_to_start_fails_the_servers_startup() -> None:
    def open_database() -> None:
        raise RuntimeError("no database")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        open_database()  # a call, not a raise here: the yield after it stays reachable for mypy
        yield

    server = Recorder({"type": "lifespan.startup"})
    await wrap(Starlette(lifespan=lifespan))({"type": "lifespan", "state": {}}, server.receive, server.send)
    [failed] = server.sent
    assert failed["type"] == "lifespan.startup.failed"
    assert "no database" in failed["message"]


@pytest.mark.anyio
async def test_a_handler_without_lifespan_support_is_left_out() -> None:
    async def http_only(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"  # raises for a lifespan scope, before asking for a message

    server = Recorder({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    await wrap(http_only)({"type": "lifespan", "state": {}}, server.receive, server.send)
    assert server.types() == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


# ---------------------------------------------------------------------- 3. one response only
def http_scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/site", "/api/site"])
async def test_an_app_failing_after_its_response_began_gets_no_second_response(path: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
        raise RuntimeError("the handler failed")

    provider = wrap(app, resolve_external_token=lambda _: {"props": {}})
    server = Recorder({"type": "http.request", "body": b""})
    scope = http_scope(path)
    if path.startswith("/api/"):
        scope["headers"].append((b"authorization", b"Bearer external-token"))
    with pytest.raises(RuntimeError, match="the handler failed"):  # the server logs it and ends the exchange
        await provider(scope, server.receive, server.send)
    assert server.types() == ["http.response.start", "http.response.body"]


@pytest.mark.anyio
async def test_an_app_failing_before_its_response_gets_one_500() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("the handler failed")

    server = Recorder({"type": "http.request", "body": b""})
    await wrap(app)(http_scope("/site"), server.receive, server.send)
    assert server.types() == ["http.response.start", "http.response.body"]
    assert server.sent[0]["status"] == 500
    assert orjson.loads(server.sent[1]["body"])["error"] == "server_error"


def test_a_crashing_fastapi_route_under_uvicorn_yields_exactly_one_500(caplog: pytest.LogCaptureFixture) -> None:
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> JSONResponse:
        raise RuntimeError("the handler failed")

    with caplog.at_level(logging.ERROR), served_by_uvicorn(wrap(app)) as url:
        response = httpx.get(f"{url}/boom")
        assert response.status_code == 500
        assert httpx.get(f"{url}/boom").status_code == 500  # the connection and the server lived on
    logged = " ".join(
        f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}"
        for r in caplog.records
        if r.name.startswith("uvicorn")
    )
    assert "after response already completed" not in logged
    assert "the handler failed" in logged  # the server, not the provider, reports the failure

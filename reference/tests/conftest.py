"""Fixtures for the reference's tests: an in-process provider and an HTTP client bound to it."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import quote
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance.support.flows import pkce_pair as client_pkce_pair
from oauth_conformance.support.flows import s256 as client_s256
from oauth_reference import OAuthProvider
from oauth_reference.machinery import records
from oauth_reference.machinery.clock import OffsetClock
from oauth_reference.machinery.grants import split_token
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Storage
from oauth_reference.serving.demo import build_reference
from oauth_reference.serving.demo.app import build_api_app
from oauth_reference.serving.demo.app import build_demo_app

ORIGIN = "http://127.0.0.1:8000"
REDIRECT = "http://127.0.0.1:9/cb"
TOKEN = "/oauth/token"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# PKCE as a client computes it: the harness's client-side helpers, independent of the reference's own
# implementation (oauth_reference.specs.rfc7636), which these tests check.
pkce_pair = client_pkce_pair
s256 = client_s256


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An ``Authorization: Basic`` header, form-encoding id and secret first (OAuth 2.1 section 2.4.1)."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def fragment_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).fragment, keep_blank_values=True)


def ids_of(token: str) -> tuple[str, str]:
    """``(user_id, grant_id)`` of a token in the ``userId:grantId:secret`` shape."""
    ids = split_token(token)
    assert ids is not None, "not a token of the reference's shape"
    return ids


async def dump_store(storage: Storage) -> dict[str, bytes]:
    """Every live key and value in the store, through the public interface (any backend)."""
    out: dict[str, bytes] = {}
    cursor: str | None = None
    while True:
        page = await storage.list("", limit=1000, cursor=cursor)
        for key in page.keys:
            entry = await storage.get(key.name)
            if entry is not None:
                out[key.name] = entry.value
        if page.cursor is None:
            return out
        cursor = page.cursor


async def token_keys(storage: Storage, token: str) -> list[str]:
    """The access-token keys stored under the grant ``token`` belongs to."""
    user_id, grant_id = ids_of(token)
    page = await storage.list(records.grant_tokens_prefix(user_id, grant_id))
    return [k.name for k in page.keys]


async def load_grant(storage: Storage, token: str) -> Grant | None:
    entry = await storage.get(records.grant_key(*ids_of(token)))
    return None if entry is None else records.load(Grant, entry.value)


@dataclass
class Env:
    """An in-process reference provider and a client talking to it."""

    provider: OAuthProvider
    http: httpx.AsyncClient
    clock: OffsetClock

    @property
    def storage(self) -> Storage:
        return self.provider.storage

    async def register(self, **meta: Any) -> dict[str, Any]:
        body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "t", **meta}
        body = {k: v for k, v in body.items() if v is not None}
        response = await self.http.post("/oauth/register", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def authorize(self, client_id: str, **params: str | None) -> httpx.Response:
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, **params}
        return await self.http.get("/authorize", params={k: v for k, v in query.items() if v is not None})

    async def code(self, client_id: str, **params: str | None) -> tuple[str, str]:
        """(code, verifier) from an approved authorization with PKCE S256."""
        verifier, challenge = pkce_pair()
        query: dict[str, str | None] = {
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
            **params,
        }
        response = await self.authorize(client_id, **query)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert "code" in query_of(location), location
        return query_of(location)["code"][0], verifier

    async def token(self, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await self.http.post(TOKEN, data=data, **kwargs)

    async def tokens(self, client_id: str, **params: str | None) -> dict[str, Any]:
        code, verifier = await self.code(client_id, **params)
        response = await self.token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def refresh(self, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
        return await self.token(data)

    async def revoke(self, client_id: str, token: str, **extra: str) -> httpx.Response:
        return await self.token({"token": token, "client_id": client_id, **extra})

    async def api(self, access_token: str, path: str = "/api/whoami") -> httpx.Response:
        return await self.http.get(path, headers={"Authorization": f"Bearer {access_token}"})

    async def metadata(self) -> dict[str, Any]:
        response = await self.http.get("/.well-known/oauth-authorization-server")
        assert response.status_code == 200
        return dict(response.json())


EnvFactory = Callable[..., Env]


def bare_provider(
    *, storage: Storage | None = None, clock: OffsetClock | None = None, auto_approve: bool = True, **options: Any
) -> OAuthProvider:
    """The provider with only the required options, so every other option has the seed's default.

    It still serves the demo's ``/authorize`` and ``/api/whoami`` and registration at
    ``/oauth/register`` (the seed has no default for that endpoint; without it there is none).
    """
    base: dict[str, Any] = {
        "api_route": "/api/",
        "api_handler": build_api_app(),
        "default_handler": build_demo_app(auto_approve=auto_approve),
        "authorize_endpoint": "/authorize",
        "token_endpoint": TOKEN,
        "client_registration_endpoint": "/oauth/register",
    }
    return OAuthProvider(storage=storage, clock=clock or OffsetClock(), **{**base, **options})


@pytest.fixture
async def make_env() -> AsyncIterator[EnvFactory]:
    """Build an in-process reference with extra options; closed at teardown.

    ``bare=True`` starts from the seed's defaults (:func:`bare_provider`) instead of the options
    ``oauth-reference serve`` uses (which turn plain PKCE off and configure scopes).
    """
    opened: list[httpx.AsyncClient] = []
    providers: list[OAuthProvider] = []

    def factory(
        options: dict[str, Any] | None = None,
        *,
        storage: Any = None,
        auto_approve: bool = True,
        bare: bool = False,
        origin: str = ORIGIN,
    ) -> Env:
        clock = OffsetClock()
        if bare:
            provider = bare_provider(storage=storage, clock=clock, auto_approve=auto_approve, **(options or {}))
        else:
            provider = build_reference(options, storage=storage, clock=clock, auto_approve=auto_approve)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=origin)
        opened.append(client)
        providers.append(provider)
        return Env(provider, client, clock)

    yield factory
    for client in opened:
        await client.aclose()
    for provider in providers:
        await provider.storage.close()


@pytest.fixture
async def env(make_env: EnvFactory) -> Env:
    return make_env()


def tagged_app(tag: str) -> Callable[..., Any]:
    """An ASGI app answering JSON: its tag, the path and host, and what the provider handed it."""
    import orjson

    from oauth_reference import api_context
    from oauth_reference import provider_helpers

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            ctx = api_context(scope)
            oauth: dict[str, Any] | None = {
                "props": ctx.props,
                "scope": ctx.scope,
                "client_id": ctx.client_id,
                "user_id": ctx.user_id,
                "grant_id": ctx.grant_id,
                "audience": ctx.audience,
            }
        except LookupError:
            oauth = None
        try:
            helpers = provider_helpers(scope) is scope["state"]["oauth_provider"]
        except LookupError:
            helpers = False
        headers = dict(scope["headers"])
        body = orjson.dumps(
            {
                "tag": tag,
                "path": scope["path"],
                "host": headers.get(b"host", b"").decode(),
                "oauth": oauth,
                "state_oauth": scope.get("state", {}).get("oauth") is not None,
                "helpers": helpers,
            }
        )
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


@contextmanager
def served_by_uvicorn(app: Any, **config: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a free loopback port (lifespan on); yields its URL.

    WebSockets use the sans-I/O implementation, which offers the ``websocket.http.response``
    extension (a refused handshake can carry a status and headers).
    """
    import threading
    import time

    import uvicorn

    from oauth_reference.serving.server import base_url
    from oauth_reference.serving.server import bind

    sock = bind("127.0.0.1", 0)
    # log_config=None: uvicorn leaves logging alone, so its records reach caplog like any other.
    options: dict[str, Any] = {"lifespan": "on", "log_config": None, "ws": "websockets-sansio", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()

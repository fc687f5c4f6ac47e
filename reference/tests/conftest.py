"""Fixtures for the reference's tests: an in-process provider and an HTTP client bound to it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_reference import OAuthProvider
from oauth_reference.clock import OffsetClock
from oauth_reference.demo import build_reference

ORIGIN = "http://127.0.0.1:8000"
REDIRECT = "http://127.0.0.1:9/cb"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Env:
    """An in-process reference provider and a client talking to it."""

    provider: OAuthProvider
    http: httpx.AsyncClient
    clock: OffsetClock

    async def register(self, **meta: Any) -> dict[str, Any]:
        body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "t", **meta}
        response = await self.http.post("/oauth/register", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def authorize(self, client_id: str, **params: str) -> httpx.Response:
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, **params}
        return await self.http.get("/authorize", params={k: v for k, v in query.items() if v is not None})

    async def code(self, client_id: str, **params: str) -> tuple[str, str]:
        """(code, verifier) from an approved authorization with PKCE S256."""
        verifier, challenge = pkce_pair()
        response = await self.authorize(
            client_id, code_challenge=challenge, code_challenge_method="S256", state="s", **params
        )
        assert response.status_code == 302, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return query["code"][0], verifier

    async def token(self, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await self.http.post("/oauth/token", data=data, **kwargs)

    async def tokens(self, client_id: str, **params: str) -> dict[str, Any]:
        code, verifier = await self.code(client_id, **params)
        response = await self.token(
            {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def api(self, access_token: str, path: str = "/api/whoami") -> httpx.Response:
        return await self.http.get(path, headers={"Authorization": f"Bearer {access_token}"})


EnvFactory = Callable[..., Any]


@pytest.fixture
async def make_env() -> AsyncIterator[EnvFactory]:
    """Build an in-process reference with extra options; closed at teardown."""
    opened: list[httpx.AsyncClient] = []

    def factory(options: dict[str, Any] | None = None, *, storage: Any = None, auto_approve: bool = True) -> Env:
        clock = OffsetClock()
        provider = build_reference(options, storage=storage, clock=clock, auto_approve=auto_approve)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=ORIGIN)
        opened.append(client)
        return Env(provider, client, clock)

    yield factory
    for client in opened:
        await client.aclose()


@pytest.fixture
async def env(make_env: EnvFactory) -> Env:
    result: Env = make_env()
    return result

"""In-process benchmarks of the reference: a whole authorization, a refresh, an API request check.

The provider is driven as an ASGI app on one event loop, without an HTTP client in between, so
the figures are the provider's own cost (its storage is in memory). Run with ``nox -s bench``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from typing import TypeVar
from urllib.parse import parse_qs
from urllib.parse import urlencode
from urllib.parse import urlsplit

import orjson
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from oauth_reference import OAuthProvider
from oauth_reference.machinery.asgi import Message
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.serving.demo import build_reference
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair

HOST = b"127.0.0.1:8000"
T = TypeVar("T")


@dataclass
class Reply:
    status: int
    headers: dict[bytes, bytes]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


class Driver:
    """Calls the ASGI app directly on a private event loop."""

    def __init__(self, app: OAuthProvider) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    async def call(
        self, method: str, path: str, *, query: str = "", headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Reply:
        raw_headers = [(b"host", HOST)] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return Reply(start["status"], dict(start.get("headers", [])), b"".join(chunks))

    def close(self) -> None:
        self.loop.close()


@dataclass
class Client:
    driver: Driver
    client_id: str
    verifier: str
    authorize_query: str

    async def authorize_and_exchange(self) -> dict[str, Any]:
        reply = await self.driver.call("GET", "/authorize", query=self.authorize_query)
        assert reply.status == 302, reply.body
        code = parse_qs(urlsplit(reply.headers[b"location"].decode()).query)["code"][0]
        form = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": self.verifier,
                "client_id": self.client_id,
            }
        )
        token = await self.driver.call(
            "POST",
            "/oauth/token",
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=form.encode(),
        )
        assert token.status == 200, token.body
        return dict(token.json())

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        form = urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id})
        reply = await self.driver.call(
            "POST", "/oauth/token", headers={"content-type": "application/x-www-form-urlencoded"}, body=form.encode()
        )
        assert reply.status == 200, reply.body
        return dict(reply.json())

    async def api(self, access_token: str) -> Reply:
        reply = await self.driver.call("GET", "/api/whoami", headers={"authorization": f"Bearer {access_token}"})
        assert reply.status == 200, reply.body
        return reply


@pytest.fixture
def client() -> Iterator[Client]:
    driver = Driver(build_reference(clock=SystemClock(), auto_approve=True))
    meta = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
    reply = driver.run(
        driver.call("POST", "/oauth/register", headers={"content-type": "application/json"}, body=orjson.dumps(meta))
    )
    client_id = reply.json()["client_id"]
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "bench",
            "scope": "profile",
        }
    )
    yield Client(driver, client_id, verifier, query)
    driver.close()


def test_bench_authorize_and_token(benchmark: BenchmarkFixture, client: Client) -> None:
    """GET /authorize (auto-approved: grant stored, earlier grant revoked) then the code exchange."""
    tokens = benchmark(lambda: client.driver.run(client.authorize_and_exchange()))
    assert tokens["token_type"] == "Bearer"


def test_bench_refresh(benchmark: BenchmarkFixture, client: Client) -> None:
    """One refresh with rotation; each round uses the refresh token the previous round returned."""
    current = [client.driver.run(client.authorize_and_exchange())["refresh_token"]]

    def one_refresh() -> dict[str, Any]:
        tokens = client.driver.run(client.refresh(current[0]))
        current[0] = tokens["refresh_token"]
        return tokens

    tokens = benchmark(one_refresh)
    assert tokens["refresh_token"] == current[0]


def test_bench_api_request_check(benchmark: BenchmarkFixture, client: Client) -> None:
    """A bearer check (token lookup, expiry, audience, props decryption) and the API handler."""
    access_token = client.driver.run(client.authorize_and_exchange())["access_token"]
    reply = benchmark(lambda: client.driver.run(client.api(access_token)))
    assert reply.json()["user_id"] == "test-user"

"""Two ``oauth-reference serve`` processes on one store behave as one provider.

Both processes stand behind one public origin, as behind a load balancer that keeps the Host
header: requests to either carry the first process's Host, so tokens issued by one are for the
resource the other serves. Run on Redis and on one SQLite file.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_conformance.support.flows import pkce_pair
from oauth_reference.machinery import records
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage.opener import open_store
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start
from reference.bench import redis_server
from reference.tests.storage.conftest import worker_db

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

REDIRECT = "http://127.0.0.1:9/cb"
USER = "test-user"  # the demo's auto-approve user


@dataclass
class Pair:
    """Two served processes on one store, and the store URL to inspect it."""

    store_url: str
    servers: list[Served]

    @property
    def host(self) -> str:
        return urlsplit(self.servers[0].url).netloc


@pytest.fixture(scope="module", params=["redis", "sqlite"])
def pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    if request.param == "redis":
        instance: redis_server.RedisServer | redis_server.External = request.getfixturevalue("redis_instance")
        url = instance.db_url(worker_db(2))
    else:
        url = f"sqlite:{Path(tmp_path_factory.mktemp('shared')) / 'store.sqlite3'}"
    servers: list[Served] = []
    try:
        for _ in range(2):
            servers.append(start(["--store", url, "--auto-approve", "--no-access-log"]))
        yield Pair(url, servers)
    finally:
        for server in servers:
            server.stop()


class Client:
    """A public client talking to either process of the pair."""

    def __init__(self, pair: Pair, http: httpx.AsyncClient) -> None:
        self.pair, self.http = pair, http
        self.client_id = ""

    async def send(self, which: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.pair.servers[which].url + path
        headers = {"Host": self.pair.host, **kwargs.pop("headers", {})}
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def register(self) -> None:
        body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "x"}
        response = await self.send(0, "POST", "/oauth/register", json=body)
        assert response.status_code == 201, response.text
        self.client_id = response.json()["client_id"]

    async def code(self, which: int) -> tuple[str, str]:
        verifier, challenge = pkce_pair()
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        }
        response = await self.send(which, "GET", "/authorize", params=params)
        assert response.status_code == 302, response.text
        return parse_qs(urlsplit(response.headers["location"]).query)["code"][0], verifier

    async def redeem(self, which: int, code: str, verifier: str) -> httpx.Response:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        return await self.send(which, "POST", "/oauth/token", data=data)

    async def refresh(self, which: int, refresh_token: str) -> httpx.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self.client_id}
        return await self.send(which, "POST", "/oauth/token", data=data)

    async def api(self, which: int, access_token: str) -> httpx.Response:
        return await self.send(which, "GET", "/api/whoami", headers={"Authorization": f"Bearer {access_token}"})

    async def revoke(self, which: int, token: str) -> httpx.Response:
        return await self.send(which, "POST", "/oauth/token", data={"token": token, "client_id": self.client_id})


@pytest.fixture
async def client(pair: Pair) -> AsyncIterator[Client]:
    async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=64)) as http:
        client = Client(pair, http)
        await client.register()
        yield client


@pytest.fixture
async def store(pair: Pair) -> AsyncIterator[Storage]:
    store = open_store(pair.store_url, SystemClock())
    yield store
    await store.close()


def grant_id_of(token: str) -> str:
    return token.split(":")[1]


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def stored_tokens(store: Storage, grant_id: str) -> set[str]:
    page = await store.list(records.grant_tokens_prefix(USER, grant_id))
    return {key.name.rsplit(":", 1)[1] for key in page.keys}


async def stored_grant(store: Storage, grant_id: str) -> Grant | None:
    entry = await store.get(records.grant_key(USER, grant_id))
    return None if entry is None else records.load(Grant, entry.value)


async def test_a_code_redeemed_on_both_processes_at_once_succeeds_once(client: Client, store: Storage) -> None:
    for round_ in range(3):
        code, verifier = await client.code(round_ % 2)
        responses = await asyncio.gather(*(client.redeem(i % 2, code, verifier) for i in range(8)))
        winners = [r for r in responses if r.status_code == 200]
        assert len(winners) == 1, [r.status_code for r in responses]
        assert all(r.status_code == 400 and r.json()["error"] == "invalid_grant" for r in responses if r not in winners)
        # The losers' tokens never existed: the store holds the winner's token or, if a late loser
        # took the code for a replay and revoked the grant, nothing at all.
        grant_id = grant_id_of(code)
        tokens = await stored_tokens(store, grant_id)
        grant = await stored_grant(store, grant_id)
        winner = winners[0].json()
        if grant is None:
            assert tokens == set()
        else:
            assert tokens == {token_id(winner["access_token"])}
            assert grant.refresh_token_id == token_id(winner["refresh_token"])


async def test_a_refresh_token_used_on_both_processes_at_once_yields_one_family(client: Client, store: Storage) -> None:
    code, verifier = await client.code(0)
    first = (await client.redeem(1, code, verifier)).json()
    grant_id = grant_id_of(code)
    responses = await asyncio.gather(*(client.refresh(i % 2, first["refresh_token"]) for i in range(8)))
    winners = [r.json() for r in responses if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    grant = await stored_grant(store, grant_id)
    tokens = await stored_tokens(store, grant_id)
    if grant is None:  # a late request saw the rotated-out token: reuse detection revoked all
        assert tokens == set()
        return
    winner = winners[0]
    assert grant.refresh_token_id == token_id(winner["refresh_token"])
    assert tokens <= {token_id(first["access_token"]), token_id(winner["access_token"])}
    assert token_id(winner["access_token"]) in tokens
    # The one live family goes on, on either process; the presented token is dead everywhere.
    assert (await client.refresh(1, winner["refresh_token"])).status_code == 200


async def test_a_revocation_on_one_process_is_seen_by_the_next_request_on_the_other(client: Client) -> None:
    for revoker, checker in ((0, 1), (1, 0)):
        code, verifier = await client.code(revoker)
        tokens = (await client.redeem(checker, code, verifier)).json()
        assert (await client.api(checker, tokens["access_token"])).status_code == 200
        assert (await client.revoke(revoker, tokens["access_token"])).status_code == 200
        assert (await client.api(checker, tokens["access_token"])).status_code == 401
        # Revoking the refresh token ends the grant: its other access tokens die with it.
        renewed = (await client.refresh(checker, tokens["refresh_token"])).json()
        assert (await client.api(checker, renewed["access_token"])).status_code == 200
        assert (await client.revoke(revoker, renewed["refresh_token"])).status_code == 200
        assert (await client.api(checker, renewed["access_token"])).status_code == 401
        assert (await client.refresh(checker, renewed["refresh_token"])).status_code == 400

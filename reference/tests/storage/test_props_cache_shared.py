"""Two providers sharing one store (as two processes do, on an SQLite file or Redis): a token
whose props one of them has cached is refused by it on the very next request after the other
revokes it, or its grant, or after it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from oauth_reference.machinery import crypto
from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.storage import Put
from oauth_reference.provider import OAuthProvider
from oauth_reference.serving.demo import build_reference
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import ids_of
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.storage.conftest import Backend

pytestmark = pytest.mark.anyio


class Node:
    """One provider on its own store object over the shared backing (one 'process')."""

    def __init__(self, backend: Backend) -> None:
        self.provider: OAuthProvider = build_reference(storage=backend.open(), clock=backend.clock, auto_approve=True)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.provider), base_url=ORIGIN)

    async def tokens(self) -> tuple[str, dict[str, Any]]:
        body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
        client_id = (await self.http.post("/oauth/register", json=body)).json()["client_id"]
        verifier, challenge = pkce_pair()
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT, "state": "s"}
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
        code = query_of((await self.http.get("/authorize", params=query)).headers["location"])["code"][0]
        form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
        response = await self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return client_id, dict(response.json())

    async def api(self, token: str) -> int:
        return (await self.http.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})).status_code

    async def revoke(self, client_id: str, token: str) -> int:
        return (await self.http.post("/oauth/token", data={"token": token, "client_id": client_id})).status_code


@pytest.fixture
async def nodes(backend: Backend) -> AsyncIterator[tuple[Node, Node]]:
    pair = (Node(backend), Node(backend))
    yield pair
    for node in pair:
        await node.http.aclose()
    await backend.close()


async def test_an_access_token_revoked_by_one_is_refused_by_the_other_at_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    client_id, tokens = await a.tokens()
    assert [await a.api(tokens["access_token"]) for _ in range(2)] == [200, 200]
    assert a.provider.core.props_cache.hits == 1  # a holds the decrypted props
    assert await b.revoke(client_id, tokens["access_token"]) == 200  # RFC 7009, through the other
    assert await a.api(tokens["access_token"]) == 401
    assert len(a.provider.core.props_cache) == 0


async def test_a_grant_revoked_by_one_is_refused_by_the_other_at_once(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    client_id, tokens = await a.tokens()
    assert await a.api(tokens["access_token"]) == 200
    assert await b.revoke(client_id, tokens["refresh_token"]) == 200  # the cascade ends the grant
    assert await a.api(tokens["access_token"]) == 401
    _, again = await a.tokens()
    assert await a.api(again["access_token"]) == 200
    user_id, grant_id = ids_of(again["access_token"])
    await b.provider.helpers.revoke_grant(grant_id, user_id)
    assert await a.api(again["access_token"]) == 401


async def test_a_cached_token_is_refused_by_both_once_expired(nodes: tuple[Node, Node], backend: Backend) -> None:
    a, b = nodes
    _, tokens = await a.tokens()
    assert await a.api(tokens["access_token"]) == 200
    assert await b.api(tokens["access_token"]) == 200
    backend.clock.advance(int(tokens["expires_in"]) + 1)
    assert [await a.api(tokens["access_token"]), await b.api(tokens["access_token"])] == [401, 401]


async def test_props_rewritten_by_one_are_seen_by_the_other_at_once(nodes: tuple[Node, Node]) -> None:
    # A cached entry serves only the very stored bytes it came from: when the other process writes
    # the token's record again with new props (under the same token-wrapped key), the next check
    # decrypts the new ones.
    a, b = nodes
    _, tokens = await a.tokens()
    token = tokens["access_token"]
    assert [await a.api(token) for _ in range(2)] == [200, 200]
    assert a.provider.core.props_cache.hits == 1  # a holds the decrypted props
    user_id, grant_id = ids_of(token)
    key = records.token_key(user_id, grant_id, crypto.sha256_hex(token))
    storage = b.provider.storage
    entry = await storage.get(key)
    assert entry is not None
    record = records.load(AccessToken, entry.value)
    props_key = crypto.unwrap_key(record.wrapped_key, token)
    record.encrypted_props = crypto.encrypt_props({"changed": True}, props_key)
    assert await storage.commit([Put(key, records.dump(record), entry.expires_at)])
    answer = await a.http.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["props"] == {"changed": True}

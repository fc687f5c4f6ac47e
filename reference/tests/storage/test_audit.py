"""The store audit finds what it exists to find: half-made grants, live tokens of revoked grants,
keys without expiry, and grants lost or extra against the load generator's ledger."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx
import pytest

from oauth_reference.machinery import records
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage.redis import RedisStorage
from oauth_reference.serving.demo import build_reference
from reference.bench.audit import audit_store
from reference.tests.storage.conftest import Backend
from reference.tests.storage.conftest import ManualClock

pytestmark = pytest.mark.anyio

REDIRECT = "http://127.0.0.1:9/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"


class Provider:
    """An in-process reference on the backend under test, and the ledger a client would keep."""

    def __init__(self, store: Storage, clock: ManualClock) -> None:
        self.app = build_reference(storage=store, clock=clock, auto_approve=True)
        self.store = store
        self.ledger: dict[str, Any] = {"clients": {}, "grants": {}}

    async def flow(self, http: httpx.AsyncClient) -> dict[str, Any]:
        registered = await http.post(
            "/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
        )
        client_id = registered.json()["client_id"]
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT}
        query |= {"code_challenge": CHALLENGE, "code_challenge_method": "S256"}
        location = (await http.get("/authorize", params=query)).headers["location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        data = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER, "client_id": client_id}
        tokens = (await http.post("/oauth/token", data=data)).json()
        grant_id = code.split(":")[1]
        self.ledger["clients"][client_id] = {"uncertain": False, "grants": [grant_id]}
        self.ledger["grants"][grant_id] = {
            "client_id": client_id,
            "user_id": "test-user",
            "live": True,
            "uncertain": False,
            "access": [hashlib.sha256(tokens["access_token"].encode()).hexdigest()],
            "refresh": hashlib.sha256(tokens["refresh_token"].encode()).hexdigest(),
        }
        return {"client_id": client_id, "grant_id": grant_id, **tokens}


@pytest.fixture
async def provider(store: Storage, backend: Backend) -> AsyncIterator[tuple[Provider, httpx.AsyncClient]]:
    p = Provider(store, backend.clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=p.app), base_url="http://127.0.0.1") as http:
        yield p, http


async def test_a_store_made_by_real_flows_passes(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    for _ in range(3):
        await p.flow(http)
    report = await audit_store(p.store, p.ledger)
    assert report.ok, report.problems
    assert report.counts["live_grants_verified"] == 3


async def test_a_grant_without_its_index_key_is_half_made(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    done = await p.flow(http)
    await p.store.commit([Delete(records.client_grant_key(done["client_id"], "test-user", done["grant_id"]))])
    report = await audit_store(p.store, p.ledger)
    assert any("no index key" in problem for problem in report.problems)


async def test_a_live_token_of_a_revoked_grant_is_found(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    done = await p.flow(http)
    grant_key = records.grant_key("test-user", done["grant_id"])
    index_key = records.client_grant_key(done["client_id"], "test-user", done["grant_id"])
    await p.store.commit([Delete(grant_key), Delete(index_key)])  # revoked, but not its tokens
    p.ledger["grants"][done["grant_id"]]["live"] = False
    report = await audit_store(p.store, p.ledger)
    assert any("live access token(s) of grant" in problem for problem in report.problems)
    assert any("was revoked but 1 access token(s) live" in problem for problem in report.problems)


async def test_a_token_without_expiry_is_an_orphan(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    done = await p.flow(http)
    token_id = p.ledger["grants"][done["grant_id"]]["access"][0]
    key = records.token_key("test-user", done["grant_id"], token_id)
    entry = await p.store.get(key)
    assert entry is not None
    await p.store.commit([Put(key, entry.value)])  # the same record, with no expiry
    report = await audit_store(p.store, p.ledger)
    assert any("access token without expiry" in problem for problem in report.problems)


async def test_lost_and_extra_grants_and_tokens_are_found(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    first, second = await p.flow(http), await p.flow(http)
    p.ledger["grants"][first["grant_id"]]["access"].append("0" * 64)  # a token the store lost
    del p.ledger["grants"][second["grant_id"]]  # a grant nobody was issued
    p.ledger["clients"][second["client_id"]]["grants"] = []
    report = await audit_store(p.store, p.ledger)
    assert any("1 access token(s) lost" in problem for problem in report.problems)
    assert any("was never issued" in problem for problem in report.problems)
    entry = await p.store.get(records.grant_key("test-user", first["grant_id"]))
    assert entry is not None
    grant = records.load(Grant, entry.value)
    await p.store.commit([Delete(records.grant_key("test-user", grant.id))])
    report = await audit_store(p.store, p.ledger)
    assert any(f"grant {grant.id} is lost" in problem for problem in report.problems)


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_redis_keys_without_expiry_or_index_are_found(provider: tuple[Provider, httpx.AsyncClient]) -> None:
    p, http = provider
    done = await p.flow(http)
    assert isinstance(p.store, RedisStorage)
    assert (await audit_store(p.store, p.ledger)).ok
    token_id = p.ledger["grants"][done["grant_id"]]["access"][0]
    await p.store.redis.persist(p.store.key(records.token_key("test-user", done["grant_id"], token_id)))
    await p.store.redis.zrem(f"{p.store.namespace}index", records.grant_key("test-user", done["grant_id"]))
    report = await audit_store(p.store, p.ledger)
    assert any("orphan without expiry" in problem for problem in report.problems)
    assert any("missing from the index" in problem for problem in report.problems)

"""Races the library loses and the reference must win, with real concurrent requests on SQLite.

OAUTH21-4.1.3-CODE-ONCE: of N simultaneous redemptions of one code exactly one succeeds, and the
losers' tokens never exist. OAUTH21-4.3.1-RT-REUSE: N simultaneous refreshes with one refresh
token leave at most one live token family.

Three ways to race: plain ``asyncio.gather`` in-process; the same with a store that holds every
write until all N requests have read the grant (the worst interleaving, made certain); and two
served processes sharing one SQLite file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from oauth_reference.machinery import crypto
from oauth_reference.machinery import records
from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import Page
from oauth_reference.machinery.storage import Storage
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage.memory import MemoryStorage
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.serving.process import Served
from oauth_reference.serving.process import start
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import ids_of
from reference.tests.conftest import load_grant
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import token_keys

pytestmark = pytest.mark.anyio

N = 20


class RaceStore:
    """A store that, once armed, holds every commit until ``readers`` reads of grant records happened.

    Every racing request then decides on the same version of the grant, the interleaving in
    which a store without conditional commits would let all of them win.
    """

    def __init__(self, inner: Storage, readers: int) -> None:
        self.inner = inner
        self.readers = readers
        self.reads = 0
        self.armed = False
        self.everyone_read = asyncio.Event()

    async def get(self, key: str) -> Entry | None:
        entry = await self.inner.get(key)
        if self.armed and key.startswith("grant:"):
            self.reads += 1
            if self.reads >= self.readers:
                self.everyone_read.set()
        return entry

    async def list(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> Page:
        return await self.inner.list(prefix, limit=limit, cursor=cursor)

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        if self.armed:
            await self.everyone_read.wait()
        return await self.inner.commit(writes, expect=expect)

    async def close(self) -> None:
        await self.inner.close()


def _sqlite(tmp_path: Path) -> SQLiteStorage:
    return SQLiteStorage(str(tmp_path / "store.sqlite3"), SystemClock())


async def _redeem_concurrently(env: Env, client_id: str, code: str, verifier: str) -> list[httpx.Response]:
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
    with anyio.fail_after(60):  # a guard against a hung race, not a timing assertion
        return list(await asyncio.gather(*(env.token(data) for _ in range(N))))


async def _refresh_concurrently(env: Env, client_id: str, refresh_token: str) -> list[httpx.Response]:
    with anyio.fail_after(60):
        return list(await asyncio.gather(*(env.refresh(client_id, refresh_token) for _ in range(N))))


def _one_winner(responses: list[httpx.Response]) -> dict[str, Any]:
    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert {r.status_code for r in losers} == {400}
    assert {r.json()["error"] for r in losers} == {"invalid_grant"}
    return dict(winners[0].json())


# --- in-process ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
async def test_of_simultaneous_redemptions_of_one_code_exactly_one_wins(
    make_env: EnvFactory, tmp_path: Path, backend: str
) -> None:
    """OAUTH21-4.1.3-CODE-ONCE, under the worst interleaving: all N read before anyone writes."""
    inner: Storage = _sqlite(tmp_path) if backend == "sqlite" else MemoryStorage(SystemClock())
    store = RaceStore(inner, readers=N)
    env = make_env(storage=store)
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    store.armed = True
    winner = _one_winner(await _redeem_concurrently(env, client["client_id"], code, verifier))
    store.armed = False
    # The losers' tokens never existed: the store holds exactly the winner's access token.
    assert await token_keys(env.storage, code) == [
        records.token_key(*ids_of(code), crypto.sha256_hex(winner["access_token"]))
    ]
    # Losing a race is not a replay: the winner's tokens stay valid.
    assert (await env.api(winner["access_token"])).status_code == 200
    grant = await load_grant(env.storage, code)
    assert grant is not None
    assert grant.refresh_token_id == crypto.sha256_hex(winner["refresh_token"])


async def test_of_simultaneous_redemptions_on_sqlite_exactly_one_wins(make_env: EnvFactory, tmp_path: Path) -> None:
    """The same race with plain gather and no held writes."""
    env = make_env(storage=_sqlite(tmp_path))
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    winner = _one_winner(await _redeem_concurrently(env, client["client_id"], code, verifier))
    keys = await token_keys(env.storage, code)
    assert keys in ([], [records.token_key(*ids_of(code), crypto.sha256_hex(winner["access_token"]))])


@pytest.mark.parametrize("backend", ["sqlite", "memory"])
async def test_simultaneous_refreshes_with_one_token_leave_one_live_family(
    make_env: EnvFactory, tmp_path: Path, backend: str
) -> None:
    """OAUTH21-4.3.1-RT-REUSE: losers of the race are refused without revoking the winner."""
    inner: Storage = _sqlite(tmp_path) if backend == "sqlite" else MemoryStorage(SystemClock())
    store = RaceStore(inner, readers=N)
    env = make_env(storage=store)
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    store.armed = True
    winner = _one_winner(await _refresh_concurrently(env, client["client_id"], tokens["refresh_token"]))
    store.armed = False
    grant = await load_grant(env.storage, tokens["refresh_token"])
    assert grant is not None
    assert grant.refresh_token_id == crypto.sha256_hex(winner["refresh_token"])
    expected = sorted(
        records.token_key(*ids_of(t), crypto.sha256_hex(t)) for t in (tokens["access_token"], winner["access_token"])
    )
    assert sorted(await token_keys(env.storage, tokens["refresh_token"])) == expected
    # The one family lives on.
    follow_up = await env.refresh(client["client_id"], winner["refresh_token"])
    assert follow_up.status_code == 200


async def test_simultaneous_refreshes_on_sqlite_never_leave_two_families(make_env: EnvFactory, tmp_path: Path) -> None:
    env = make_env(storage=_sqlite(tmp_path))
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    winner = _one_winner(await _refresh_concurrently(env, client["client_id"], tokens["refresh_token"]))
    await _assert_at_most_the_winners_family(env.storage, tokens, winner)


async def _assert_at_most_the_winners_family(storage: Storage, first: dict[str, Any], winner: dict[str, Any]) -> None:
    """Either the grant lives with exactly the winner's refresh token, or it was revoked whole."""
    grant = await load_grant(storage, first["refresh_token"])
    keys = set(await token_keys(storage, first["refresh_token"]))
    allowed = {
        records.token_key(*ids_of(t), crypto.sha256_hex(t)) for t in (first["access_token"], winner["access_token"])
    }
    if grant is None:
        assert keys == set()
    else:
        assert grant.refresh_token_id == crypto.sha256_hex(winner["refresh_token"])
        assert keys <= allowed
        assert records.token_key(*ids_of(winner["access_token"]), crypto.sha256_hex(winner["access_token"])) in keys


# --- two served processes, one SQLite file ------------------------------------------------------


def _start_two(db: Path) -> tuple[Served, Served]:
    first = start(["--store", f"sqlite:{db}", "--auto-approve", "--no-access-log"])
    try:
        second = start(["--store", f"sqlite:{db}", "--auto-approve", "--no-access-log"])
    except BaseException:
        first.stop()
        raise
    return first, second


async def _code_from(http: httpx.AsyncClient) -> tuple[str, str, str]:
    client = (
        await http.post("/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"})
    ).json()
    verifier, challenge = pkce_pair()
    response = await http.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    return client["client_id"], query_of(response.headers["location"])["code"][0], verifier


@pytest.mark.slow
async def test_two_processes_sharing_one_sqlite_file_redeem_a_code_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    first, second = _start_two(db)
    try:
        async with (
            httpx.AsyncClient(base_url=first.url, timeout=30) as a,
            httpx.AsyncClient(base_url=second.url, timeout=30) as b,
        ):
            client_id, code, verifier = await _code_from(a)
            data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}
            with anyio.fail_after(60):
                responses = await asyncio.gather(
                    *((a if i % 2 else b).post("/oauth/token", data=data) for i in range(N))
                )
            winner = _one_winner(list(responses))
    finally:
        first.stop()
        second.stop()
    storage = SQLiteStorage(str(db), SystemClock())
    try:
        keys = await token_keys(storage, code)
        # A loser that arrived after the winner's commit is a replay and revokes the grant;
        # either way no loser's token was ever stored.
        assert keys in ([], [records.token_key(*ids_of(code), crypto.sha256_hex(winner["access_token"]))])
    finally:
        await storage.close()


@pytest.mark.slow
async def test_two_processes_sharing_one_sqlite_file_never_fork_a_refresh_family(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    first, second = _start_two(db)
    try:
        async with (
            httpx.AsyncClient(base_url=first.url, timeout=30) as a,
            httpx.AsyncClient(base_url=second.url, timeout=30) as b,
        ):
            client_id, code, verifier = await _code_from(a)
            tokens = (
                await a.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "code_verifier": verifier,
                        "client_id": client_id,
                    },
                )
            ).json()
            data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": client_id}
            with anyio.fail_after(60):
                responses = await asyncio.gather(
                    *((a if i % 2 else b).post("/oauth/token", data=data) for i in range(N))
                )
            winner = _one_winner(list(responses))
    finally:
        first.stop()
        second.stop()
    storage = SQLiteStorage(str(db), SystemClock())
    try:
        await _assert_at_most_the_winners_family(storage, tokens, winner)
        assert storage.integrity_check() == "ok"
    finally:
        await storage.close()

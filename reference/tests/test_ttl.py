"""Lifetimes: codes, access tokens, refresh tokens (grants) and registrations.

Time moves with freezegun: the provider's clocks call ``time.time()`` on every read, so moving
frozen time moves expiry (``real_asyncio=True`` keeps the event loop on real time). One test per
lifetime also uses the ``OffsetClock`` the served process's ``--test-mode`` hook advances.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from oauth_reference.machinery.clock import SystemClock
from oauth_reference.machinery.storage.sqlite import SQLiteStorage
from oauth_reference.options import DAY
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import load_grant

pytestmark = pytest.mark.anyio

CODE_TTL = 600


@pytest.fixture
def frozen() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time("2030-01-01 12:00:00", real_asyncio=True) as factory:
        assert isinstance(factory, FrozenDateTimeFactory)  # not ticking: time moves only when a test says
        yield factory


def exchange(code: str, verifier: str, client_id: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client_id}


# --- authorization codes: 10 minutes (OAUTH21-4.1.2-CODE-TTL) -------------------------------


async def test_a_code_is_good_for_just_under_ten_minutes(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env()
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    frozen.tick(CODE_TTL - 1)
    assert (await env.token(exchange(code, verifier, client["client_id"]))).status_code == 200


async def test_a_code_has_expired_after_ten_minutes(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env()
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    frozen.tick(CODE_TTL)
    response = await env.token(exchange(code, verifier, client["client_id"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert await load_grant(env.storage, code) is None  # the pending grant expired with its code


async def test_a_code_expires_on_the_offset_clock_too(env: Env) -> None:
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    env.clock.advance(CODE_TTL)
    response = await env.token(exchange(code, verifier, client["client_id"]))
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_expires_in_the_sqlite_store(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    env = make_env(storage=SQLiteStorage(str(tmp_path / "store.db"), SystemClock()))
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    frozen.tick(CODE_TTL)
    assert (await env.token(exchange(code, verifier, client["client_id"]))).json()["error"] == "invalid_grant"


async def test_an_exchanged_code_no_longer_limits_the_grants_life(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory
) -> None:
    env = make_env()
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    frozen.tick(CODE_TTL * 10)
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


# --- access tokens --------------------------------------------------------------------------


@pytest.mark.parametrize("ttl", [None, 120])
async def test_an_access_token_lives_exactly_access_token_ttl(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory, ttl: int | None
) -> None:
    env = make_env({} if ttl is None else {"access_token_ttl": ttl})
    lifetime = ttl or 3600
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert tokens["expires_in"] == lifetime
    frozen.tick(lifetime - 1)
    assert (await env.api(tokens["access_token"])).status_code == 200
    frozen.tick(1)
    response = await env.api(tokens["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    # The grant outlives its access token: a refresh still works.
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


async def test_an_access_token_expires_on_the_offset_clock_too(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    env.clock.advance(3000)  # the offset clock also runs with the wall clock: keep a margin
    assert (await env.api(tokens["access_token"])).status_code == 200
    env.clock.advance(600)
    assert (await env.api(tokens["access_token"])).status_code == 401


# --- refresh tokens: the grant's lifetime ---------------------------------------------------


async def test_the_grant_lives_thirty_days_from_the_code_exchange_by_default(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory
) -> None:
    env = make_env()
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    frozen.tick(30 * DAY - 100)
    near_end = await env.refresh(client["client_id"], tokens["refresh_token"])
    assert near_end.status_code == 200
    # An access token never outlives its grant.
    assert near_end.json()["expires_in"] == 100
    frozen.tick(100)
    expired = await env.refresh(client["client_id"], near_end.json()["refresh_token"])
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"
    assert (await env.api(near_end.json()["access_token"])).status_code == 401


async def test_refreshing_does_not_extend_the_grant(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env({"refresh_token_ttl": 10 * DAY})
    client = await env.register()
    current = (await env.tokens(client["client_id"]))["refresh_token"]
    for _ in range(3):
        frozen.tick(3 * DAY)
        response = await env.refresh(client["client_id"], current)
        assert response.status_code == 200
        current = response.json()["refresh_token"]
    frozen.tick(1 * DAY)
    assert (await env.refresh(client["client_id"], current)).json()["error"] == "invalid_grant"


async def test_a_refresh_token_ttl_of_none_never_expires(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env({"refresh_token_ttl": None, "client_registration_ttl": None})
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    frozen.tick(3650 * DAY)
    assert (await env.api(tokens["access_token"])).status_code == 401
    response = await env.refresh(client["client_id"], tokens["refresh_token"])
    assert response.status_code == 200
    assert response.json()["expires_in"] == 3600


async def test_without_refresh_tokens_the_grant_ends_with_its_access_token(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory
) -> None:
    env = make_env({"refresh_token_ttl": 0})
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert await load_grant(env.storage, tokens["access_token"]) is not None
    frozen.tick(3600)
    assert await load_grant(env.storage, tokens["access_token"]) is None
    assert (await env.provider.helpers.list_user_grants("test-user")).items == []


async def test_a_grant_expires_on_the_offset_clock_too(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    env.clock.advance(30 * DAY)
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).json()["error"] == "invalid_grant"


# --- registrations --------------------------------------------------------------------------


async def test_a_registered_client_lives_ninety_days_by_default(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory
) -> None:
    env = make_env()
    client = await env.register()
    frozen.tick(90 * DAY - 1)
    assert (await env.provider.helpers.lookup_client(client["client_id"])) is not None
    assert (
        await env.authorize(client["client_id"], code_challenge="a" * 43, code_challenge_method="S256")
    ).status_code == 302
    frozen.tick(1)
    assert (await env.provider.helpers.lookup_client(client["client_id"])) is None
    response = await env.authorize(client["client_id"], code_challenge="a" * 43, code_challenge_method="S256")
    assert response.status_code == 400  # an unknown client: shown, never redirected
    assert "location" not in response.headers
    token = await env.refresh(client["client_id"], "x:AAAAAAAAAAAAAAAA:y")
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"


async def test_an_expired_confidential_registration_cannot_authenticate(
    make_env: EnvFactory, frozen: FrozenDateTimeFactory
) -> None:
    env = make_env({"client_registration_ttl": 3600})
    client = await env.register(token_endpoint_auth_method="client_secret_post")
    body = {"grant_type": "refresh_token", "refresh_token": "x:AAAAAAAAAAAAAAAA:y"}
    creds = {"client_id": client["client_id"], "client_secret": client["client_secret"]}
    assert (await env.token({**body, **creds})).json()["error"] == "invalid_grant"  # authenticated
    frozen.tick(3600)
    response = await env.token({**body, **creds})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_registration_ttl_of_none_never_expires(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env({"client_registration_ttl": None})
    client = await env.register()
    frozen.tick(3650 * DAY)
    assert (await env.provider.helpers.lookup_client(client["client_id"])) is not None


async def test_clients_from_create_client_do_not_expire(make_env: EnvFactory, frozen: FrozenDateTimeFactory) -> None:
    env = make_env({"client_registration_ttl": 3600})
    client = await env.provider.helpers.create_client(redirect_uris=[REDIRECT], token_endpoint_auth_method="none")
    frozen.tick(91 * DAY)
    assert (await env.provider.helpers.lookup_client(client.client_id)) is not None
    assert "access_token" in await env.tokens(client.client_id)


async def test_a_registration_expires_on_the_offset_clock_too(env: Env) -> None:
    client = await env.register()
    env.clock.advance(90 * DAY)
    assert (await env.provider.helpers.lookup_client(client["client_id"])) is None

"""The refresh token grant: rotation, reuse detection, client binding, scope (OAuth 2.1 section 4.3)."""

from __future__ import annotations

import pytest

from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import load_grant
from reference.tests.conftest import token_keys

pytestmark = pytest.mark.anyio


async def _tokens(env: Env, scope: str | None = None, resource: str | None = None) -> tuple[str, dict[str, str]]:
    client = await env.register()
    return client["client_id"], await env.tokens(client["client_id"], scope=scope, resource=resource)


async def test_a_refresh_issues_a_new_access_token_and_a_new_refresh_token(env: Env) -> None:
    """OAUTH21-4.3.1-RT-ROTATE."""
    client_id, tokens = await _tokens(env, "profile", resource=f"{ORIGIN}/api")
    response = await env.refresh(client_id, tokens["refresh_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "profile"
    assert body["resource"] == f"{ORIGIN}/api"
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert (await env.api(body["access_token"])).status_code == 200
    # Earlier access tokens are not revoked by a refresh; they run out on their own.
    assert (await env.api(tokens["access_token"])).status_code == 200


async def test_the_rotated_refresh_token_keeps_working(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    current = tokens["refresh_token"]
    for _ in range(5):
        response = await env.refresh(client_id, current)
        assert response.status_code == 200
        current = response.json()["refresh_token"]


async def test_reusing_a_rotated_out_refresh_token_revokes_the_grant(env: Env) -> None:
    """OAUTH21-4.3.1-RT-REUSE: a used refresh token presented again means it leaked."""
    client_id, tokens = await _tokens(env)
    rotated = (await env.refresh(client_id, tokens["refresh_token"])).json()
    reuse = await env.refresh(client_id, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    # Everything of the grant is gone: the legitimate successor, and every access token.
    assert (await env.refresh(client_id, rotated["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await env.api(rotated["access_token"])).status_code == 401
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert await load_grant(env.storage, tokens["access_token"]) is None
    assert await token_keys(env.storage, tokens["access_token"]) == []


async def test_reuse_of_an_older_generation_is_detected_too(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    generations = [tokens["refresh_token"]]
    for _ in range(3):
        generations.append((await env.refresh(client_id, generations[-1])).json()["refresh_token"])
    assert (await env.refresh(client_id, generations[0])).json()["error"] == "invalid_grant"
    assert (await env.refresh(client_id, generations[-1])).json()["error"] == "invalid_grant"


async def test_a_refresh_token_of_another_client_is_refused_without_revoking(env: Env) -> None:
    """OAUTH21-4.3-RT-CLIENT-BIND."""
    client_id, tokens = await _tokens(env)
    other = await env.register()
    response = await env.refresh(other["client_id"], tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200


async def test_a_refresh_may_narrow_the_scope_relative_to_the_original_grant(env: Env) -> None:
    """OAUTH21-4.3.1-RT-SCOPE: narrowing never reduces the grant, so a later refresh may re-widen."""
    client_id, tokens = await _tokens(env, "profile email")
    narrowed = (await env.refresh(client_id, tokens["refresh_token"], scope="email")).json()
    assert narrowed["scope"] == "email"
    assert (await env.api(narrowed["access_token"])).json()["scope"] == ["email"]
    widened = (await env.refresh(client_id, narrowed["refresh_token"], scope="profile email")).json()
    assert widened["scope"] == "profile email"
    again = (await env.refresh(client_id, widened["refresh_token"])).json()
    assert again["scope"] == "profile email"


async def test_a_refresh_may_never_widen_beyond_the_grant(env: Env) -> None:
    client_id, tokens = await _tokens(env, "profile")
    response = await env.refresh(client_id, tokens["refresh_token"], scope="profile email")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    # The refused request did not consume the refresh token.
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200


async def test_a_refresh_naming_another_resource_is_an_invalid_target(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    response = await env.refresh(client_id, tokens["refresh_token"], resource="https://other.example/api")
    assert response.json()["error"] == "invalid_target"
    ok = await env.refresh(client_id, tokens["refresh_token"], resource=f"{ORIGIN}/api")
    assert ok.status_code == 200


async def test_a_missing_refresh_token_is_an_invalid_request(env: Env) -> None:
    client = await env.register()
    response = await env.token({"grant_type": "refresh_token", "client_id": client["client_id"]})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("token", ["garbage", "a:b:c", "test-user:AAAAAAAAAAAAAAAA:" + "B" * 32])
async def test_an_unknown_or_malformed_refresh_token_is_an_invalid_grant(env: Env, token: str) -> None:
    client = await env.register()
    response = await env.refresh(client["client_id"], token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_an_access_token_is_not_a_refresh_token(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    response = await env.refresh(client_id, tokens["access_token"])
    assert response.json()["error"] == "invalid_grant"
    # ...and presenting it did not count as refresh-token reuse.
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200


async def test_a_refresh_token_is_not_an_access_token(env: Env) -> None:
    _, tokens = await _tokens(env)
    assert (await env.api(tokens["refresh_token"])).status_code == 401


async def test_a_client_registered_only_for_codes_may_still_refresh(env: Env) -> None:
    client = await env.register(grant_types=["authorization_code"])
    tokens = await env.tokens(client["client_id"])
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


# --- refresh_token_grace: the seed library's behaviour, opt-in ------------------------------


async def test_with_grace_the_previous_refresh_token_works_until_its_successor_is_used(make_env: EnvFactory) -> None:
    env = make_env({"refresh_token_grace": True})
    client_id, tokens = await _tokens(env)
    r0 = tokens["refresh_token"]
    first = await env.refresh(client_id, r0)
    assert first.status_code == 200
    # A client that lost the first response may retry with r0: that works once more...
    retry = await env.refresh(client_id, r0)
    assert retry.status_code == 200
    r2 = retry.json()["refresh_token"]
    assert (await env.refresh(client_id, r2)).status_code == 200


async def test_with_grace_the_abandoned_successor_counts_as_a_leaked_token(make_env: EnvFactory) -> None:
    """Unlike the library, reuse detection stays on with grace: r1 was superseded, so it is reuse."""
    env = make_env({"refresh_token_grace": True})
    client_id, tokens = await _tokens(env)
    r0 = tokens["refresh_token"]
    r1 = (await env.refresh(client_id, r0)).json()["refresh_token"]
    r2 = (await env.refresh(client_id, r0)).json()["refresh_token"]
    assert (await env.refresh(client_id, r1)).json()["error"] == "invalid_grant"
    assert (await env.refresh(client_id, r2)).json()["error"] == "invalid_grant"


async def test_with_grace_the_previous_token_dies_once_the_successor_is_used(make_env: EnvFactory) -> None:
    env = make_env({"refresh_token_grace": True})
    client_id, tokens = await _tokens(env)
    r0 = tokens["refresh_token"]
    r1 = (await env.refresh(client_id, r0)).json()["refresh_token"]
    r2 = (await env.refresh(client_id, r1)).json()["refresh_token"]
    assert (await env.refresh(client_id, r0)).json()["error"] == "invalid_grant"
    # Here the reference still treats r0 as a leaked token: the grant is revoked.
    assert (await env.refresh(client_id, r2)).json()["error"] == "invalid_grant"


async def test_without_grace_even_an_immediate_retry_is_treated_as_reuse(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    r1 = (await env.refresh(client_id, tokens["refresh_token"])).json()["refresh_token"]
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 400
    assert (await env.refresh(client_id, r1)).status_code == 400

"""RFC 7009 token revocation, served at the token endpoint as in the seed."""

from __future__ import annotations

import pytest

from reference.tests.conftest import Env
from reference.tests.conftest import basic
from reference.tests.conftest import load_grant

pytestmark = pytest.mark.anyio


async def _tokens(env: Env) -> tuple[str, dict[str, str]]:
    client = await env.register()
    return client["client_id"], await env.tokens(client["client_id"])


async def test_revoking_an_access_token_ends_only_that_token(env: Env) -> None:
    """RFC7009-2.1-ACCESS: the refresh token (and so the grant) survives."""
    client_id, tokens = await _tokens(env)
    response = await env.revoke(client_id, tokens["access_token"])
    assert response.status_code == 200
    assert response.content == b""
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200


async def test_revoking_a_refresh_token_ends_the_grant_and_its_access_tokens(env: Env) -> None:
    """RFC7009-2.1-CASCADE."""
    client_id, tokens = await _tokens(env)
    second = (await env.refresh(client_id, tokens["refresh_token"])).json()
    response = await env.revoke(client_id, second["refresh_token"])
    assert response.status_code == 200
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert (await env.api(second["access_token"])).status_code == 401
    assert (await env.refresh(client_id, second["refresh_token"])).json()["error"] == "invalid_grant"
    assert await load_grant(env.storage, tokens["access_token"]) is None


@pytest.mark.parametrize("token", ["unknown", "a:b:c", "test-user:AAAAAAAAAAAAAAAA:" + "C" * 32, "x" * 500])
async def test_an_unknown_or_malformed_token_gets_the_same_empty_200(env: Env, token: str) -> None:
    """RFC7009-2.2-200-INVALID."""
    client = await env.register()
    response = await env.revoke(client["client_id"], token)
    assert response.status_code == 200
    assert response.content == b""


async def test_another_clients_tokens_are_not_revoked_and_the_answer_is_the_same(env: Env) -> None:
    """RFC7009-2.1-OWNERSHIP: a client may only revoke its own tokens; nothing tells it otherwise."""
    owner_id, tokens = await _tokens(env)
    other = await env.register()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = await env.revoke(other["client_id"], token)
        assert response.status_code == 200
        assert response.content == b""
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert (await env.refresh(owner_id, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "bogus_hint"])
async def test_a_wrong_or_unknown_hint_still_revokes_the_access_token(env: Env, hint: str) -> None:
    """RFC7009-2.1-HINT-FALLBACK: the hint orders the search; both kinds are tried."""
    client_id, tokens = await _tokens(env)
    await env.revoke(client_id, tokens["access_token"], token_type_hint=hint)
    assert (await env.api(tokens["access_token"])).status_code == 401
    assert (await env.refresh(client_id, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "bogus_hint"])
async def test_a_wrong_or_unknown_hint_still_revokes_the_refresh_token(env: Env, hint: str) -> None:
    client_id, tokens = await _tokens(env)
    await env.revoke(client_id, tokens["refresh_token"], token_type_hint=hint)
    assert (await env.refresh(client_id, tokens["refresh_token"])).json()["error"] == "invalid_grant"
    assert (await env.api(tokens["access_token"])).status_code == 401


async def test_revocation_requires_client_authentication(env: Env) -> None:
    """RFC7009-2.1-CLIENT-AUTH."""
    _, tokens = await _tokens(env)
    response = await env.token({"token": tokens["access_token"]})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert (await env.api(tokens["access_token"])).status_code == 200


async def test_a_confidential_client_revokes_with_its_secret(env: Env) -> None:
    client = await env.register(token_endpoint_auth_method="client_secret_basic")
    code, verifier = await env.code(client["client_id"])
    auth = basic(client["client_id"], client["client_secret"])
    tokens = (
        await env.token({"grant_type": "authorization_code", "code": code, "code_verifier": verifier}, headers=auth)
    ).json()
    wrong = await env.token({"token": tokens["access_token"]}, headers=basic(client["client_id"], "wrong" * 8))
    assert wrong.status_code == 401
    assert (await env.api(tokens["access_token"])).status_code == 200
    ok = await env.token({"token": tokens["access_token"]}, headers=auth)
    assert ok.status_code == 200
    assert (await env.api(tokens["access_token"])).status_code == 401


async def test_revoking_twice_is_harmless(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    assert (await env.revoke(client_id, tokens["refresh_token"])).status_code == 200
    assert (await env.revoke(client_id, tokens["refresh_token"])).status_code == 200


async def test_a_revocation_answer_is_not_cached(env: Env) -> None:
    client_id, tokens = await _tokens(env)
    response = await env.revoke(client_id, tokens["access_token"])
    assert response.headers["cache-control"] == "no-store"


async def test_a_request_without_token_or_grant_type_is_a_token_request_missing_its_grant_type(env: Env) -> None:
    client = await env.register()
    response = await env.token({"client_id": client["client_id"], "token": ""})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"

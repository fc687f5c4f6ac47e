"""``token_exchange_callback``: the seed's hook to rewrite props (and lifetimes) when tokens are issued."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference import ConfigurationError
from oauth_reference import TokenExchangeCallbackOptions
from oauth_reference import TokenExchangeCallbackResult
from oauth_reference.errors import AccessDeniedError
from oauth_reference.errors import InvalidGrantError
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import bare_provider
from reference.tests.conftest import load_grant

pytestmark = pytest.mark.anyio

Callback = Any


def _env(make_env: EnvFactory, callback: Callback) -> Env:
    return make_env({"token_exchange_callback": callback})


async def _tokens(env: Env, scope: str = "profile email") -> tuple[str, dict[str, Any]]:
    client = await env.register()
    return client["client_id"], await env.tokens(client["client_id"], scope=scope)


async def test_the_callback_sees_the_grant_for_both_grant_types(make_env: EnvFactory) -> None:
    seen: list[TokenExchangeCallbackOptions] = []
    env = _env(make_env, seen.append)
    client_id, tokens = await _tokens(env)
    await env.refresh(client_id, tokens["refresh_token"], scope="email")
    assert [o.grant_type for o in seen] == ["authorization_code", "refresh_token"]
    first, second = seen
    assert first.client_id == client_id
    assert first.user_id == "test-user"
    assert first.scope == ["profile", "email"]
    assert first.requested_scope == ["profile", "email"]
    assert first.props["user_id"] == "test-user"
    assert second.requested_scope == ["email"]
    assert second.grant_id == first.grant_id


async def test_new_props_replace_the_grants_props_for_later_tokens_too(make_env: EnvFactory) -> None:
    calls = 0

    def callback(options: TokenExchangeCallbackOptions) -> TokenExchangeCallbackResult | None:
        nonlocal calls
        calls += 1
        if options.grant_type == "authorization_code":
            return TokenExchangeCallbackResult(new_props={"upstream": "token-1"})
        assert options.props == {"upstream": "token-1"}  # the refresh sees what the exchange stored
        return None

    env = _env(make_env, callback)
    client_id, tokens = await _tokens(env)
    assert (await env.api(tokens["access_token"])).json()["props"] == {"upstream": "token-1"}
    refreshed = (await env.refresh(client_id, tokens["refresh_token"])).json()
    assert (await env.api(refreshed["access_token"])).json()["props"] == {"upstream": "token-1"}
    assert calls == 2


async def test_access_token_props_apply_to_that_token_only(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> dict[str, Any] | None:
        if options.grant_type == "authorization_code":
            return {"access_token_props": {"narrow": True}}  # a mapping works as well as the dataclass
        return None

    env = _env(make_env, callback)
    client_id, tokens = await _tokens(env)
    assert (await env.api(tokens["access_token"])).json()["props"] == {"narrow": True}
    refreshed = (await env.refresh(client_id, tokens["refresh_token"])).json()
    assert (await env.api(refreshed["access_token"])).json()["props"]["user_id"] == "test-user"


async def test_an_async_callback_may_set_lifetimes_and_narrow_the_scope(make_env: EnvFactory) -> None:
    async def callback(options: TokenExchangeCallbackOptions) -> TokenExchangeCallbackResult:
        return TokenExchangeCallbackResult(access_token_ttl=90, access_token_scope=["email"])

    env = _env(make_env, callback)
    _, tokens = await _tokens(env)
    assert tokens["expires_in"] == 90
    assert tokens["scope"] == "email"
    assert (await env.api(tokens["access_token"])).json()["scope"] == ["email"]


async def test_a_refresh_token_ttl_of_zero_from_the_callback_issues_no_refresh_token(make_env: EnvFactory) -> None:
    env = _env(make_env, lambda options: {"refresh_token_ttl": 0})
    _, tokens = await _tokens(env)
    assert "refresh_token" not in tokens


async def test_the_callback_may_not_widen_the_scope(make_env: EnvFactory) -> None:
    env = _env(make_env, lambda options: {"access_token_scope": ["profile", "admin"]})
    client = await env.register()
    code, verifier = await env.code(client["client_id"], scope="profile")
    response = await env.token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client["client_id"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("result", [{"access_token_ttl": -1}, {"refresh_token_ttl": -5}, {"access_token_ttl": 1.5}])
async def test_invalid_lifetimes_from_the_callback_are_an_invalid_request(
    make_env: EnvFactory, result: dict[str, Any]
) -> None:
    env = _env(make_env, lambda options: result)
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    response = await env.token(
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": client["client_id"]}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_an_oauth_error_from_the_callback_is_the_response(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == "refresh_token":
            raise AccessDeniedError("the upstream session ended", status=403)

    env = _env(make_env, callback)
    client_id, tokens = await _tokens(env)
    response = await env.refresh(client_id, tokens["refresh_token"])
    assert response.status_code == 403
    assert response.json() == {"error": "access_denied", "error_description": "the upstream session ended"}
    assert await load_grant(env.storage, tokens["refresh_token"]) is not None


async def test_invalid_grant_from_the_callback_revokes_the_grant(make_env: EnvFactory) -> None:
    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == "refresh_token":
            raise InvalidGrantError("the upstream grant was revoked")

    env = _env(make_env, callback)
    client_id, tokens = await _tokens(env)
    response = await env.refresh(client_id, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert await load_grant(env.storage, tokens["refresh_token"]) is None
    assert (await env.api(tokens["access_token"])).status_code == 401


def test_the_callback_must_be_callable() -> None:
    with pytest.raises(ConfigurationError, match="token_exchange_callback must be callable"):
        bare_provider(token_exchange_callback="not a function")

"""``resolve_external_token``: tokens another server issued, at the API routes (issue 15, item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference import InsufficientScopeError
from oauth_reference import ResolveExternalTokenInput
from oauth_reference import ResolveExternalTokenResult
from oauth_reference import TemporarilyUnavailableError
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import tagged_app

pytestmark = pytest.mark.anyio

UPSTREAM = {"upstream-token-1": {"sub": "carol"}}


def _env(make_env: EnvFactory, resolver: Any, **options: Any) -> Env:
    return make_env({"api_handler": tagged_app("api"), "resolve_external_token": resolver, **options})


async def _call(env: Env, token: str, path: str = "/api/x") -> Any:
    return await env.http.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_an_external_token_the_resolver_accepts_reaches_the_handler_with_its_props(make_env: EnvFactory) -> None:
    seen: list[ResolveExternalTokenInput] = []

    async def resolve(found: ResolveExternalTokenInput) -> ResolveExternalTokenResult | None:
        seen.append(found)
        claims = UPSTREAM.get(found.token)
        if claims is None:
            return None
        return ResolveExternalTokenResult(props={"user": claims["sub"]}, scope=["profile"], user_id=claims["sub"])

    env = _env(make_env, resolve)
    response = await _call(env, "upstream-token-1")
    assert response.status_code == 200
    assert response.json()["oauth"] == {
        "props": {"user": "carol"},
        "scope": ["profile"],
        "client_id": None,
        "user_id": "carol",
        "grant_id": None,
        "audience": None,
    }
    assert str(seen[0].request.url) == f"{ORIGIN}/api/x"
    refused = await _call(env, "unknown-upstream-token")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]


async def test_the_providers_own_tokens_never_reach_the_resolver(make_env: EnvFactory) -> None:
    """A token of this provider's shape that is unknown (revoked, say) is not sent elsewhere."""
    seen: list[str] = []
    env = _env(make_env, lambda found: seen.append(found.token))
    client_id = (await env.register())["client_id"]
    tokens = await env.tokens(client_id)
    assert (await _call(env, tokens["access_token"])).status_code == 200
    await env.revoke(client_id, tokens["access_token"])
    assert (await _call(env, tokens["access_token"])).status_code == 401
    assert seen == []


async def test_an_audience_binds_the_external_token_like_the_providers_own(make_env: EnvFactory) -> None:
    env = _env(
        make_env,
        lambda found: {"props": {}, "audience": f"{ORIGIN}/api/reports"},
        api_route=["/api/", "/other/"],
    )
    assert (await _call(env, "t", "/api/reports/1")).status_code == 200
    assert (await _call(env, "t", "/api/other")).status_code == 401
    assert (await _call(env, "t", "/other/x")).status_code == 401


async def test_an_expired_external_token_is_invalid(make_env: EnvFactory) -> None:
    def resolve(found: ResolveExternalTokenInput) -> dict[str, Any]:
        return {"props": {}, "expires_at": env.clock.now() - 1}

    env = _env(make_env, resolve)
    assert (await _call(env, "t")).status_code == 401


async def test_the_resolver_may_answer_with_an_oauth_error(make_env: EnvFactory) -> None:
    def resolve(found: ResolveExternalTokenInput) -> None:
        if found.token == "narrow":
            raise InsufficientScopeError("needs documents.read", scope=["documents.read"])
        raise TemporarilyUnavailableError("the upstream is down", headers={"Retry-After": "10"})

    env = _env(make_env, resolve)
    narrow = await _call(env, "narrow")
    assert narrow.status_code == 403
    assert 'error="insufficient_scope"' in narrow.headers["www-authenticate"]
    assert 'scope="documents.read"' in narrow.headers["www-authenticate"]
    down = await _call(env, "other")
    assert (down.status_code, down.headers["retry-after"]) == (503, "10")


async def test_a_resolver_that_fails_is_a_500_and_a_wrong_answer_too(make_env: EnvFactory) -> None:
    def broken(found: ResolveExternalTokenInput) -> None:
        raise RuntimeError("bug")

    assert (await _call(_env(make_env, broken), "t")).status_code == 500
    assert (await _call(_env(make_env, lambda found: "yes"), "t")).status_code == 500
    assert (await _call(_env(make_env, lambda found: {"props": {}, "who": 1}), "t")).status_code == 500


async def test_without_a_resolver_a_foreign_token_is_invalid_token(env: Env) -> None:
    response = await _call(env, "upstream-token-1", "/api/whoami")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"

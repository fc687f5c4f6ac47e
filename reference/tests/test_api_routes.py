"""API routes: the bearer check (RFC 6750) and what the API handler receives."""

from __future__ import annotations

import pytest

from oauth_reference import ApiContext
from oauth_reference import OAuthHelpers
from oauth_reference import api_context
from oauth_reference import provider_helpers
from oauth_reference.machinery.asgi import Receive
from oauth_reference.machinery.asgi import Scope
from oauth_reference.machinery.asgi import Send
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import tagged_app

pytestmark = pytest.mark.anyio

# RFC9728-3.3-CHALLENGE-MATCH: the challenge for /api/whoami names the metadata of /api/whoami.
# MCP-PRM-SCOPE: the scopes the resource metadata publishes (the demo's scopes_supported).
CHALLENGE = (
    f'Bearer realm="OAuth", resource_metadata="{ORIGIN}/.well-known/oauth-protected-resource/api/whoami",'
    ' scope="profile email documents.read documents.write"'
)


RESOURCE = f"{ORIGIN}/api"  # the demo's protected resource


async def _access_token(env: Env, scope: str = "profile", resource: str | None = None) -> tuple[str, str]:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], scope=scope, resource=resource)
    return client["client_id"], tokens["access_token"]


async def test_a_valid_token_reaches_the_handler_with_props_scope_client_and_user(env: Env) -> None:
    client_id, token = await _access_token(env, "profile email")
    response = await env.api(token)
    assert response.status_code == 200
    assert response.json() == {
        "props": {"user_id": "test-user", "username": "Test-user", "source": "oauth-reference demo"},
        "scope": ["profile", "email"],
        "client_id": client_id,
        "user_id": "test-user",
    }


async def test_a_request_without_a_token_gets_a_bare_bearer_challenge(env: Env) -> None:
    """RFC6750-3.1-NO-ERROR-CODE: no credentials, no error code; RFC9728-5.1-CHALLENGE names the metadata."""
    response = await env.http.get("/api/whoami")
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["www-authenticate"] == CHALLENGE
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Token abc", "DPoP abc", "Bearer"])
async def test_other_schemes_count_as_no_token(env: Env, header: str) -> None:
    response = await env.http.get("/api/whoami", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE


@pytest.mark.parametrize(
    "token", ["garbage", "a:b:c", "test-user:AAAAAAAAAAAAAAAA:" + "D" * 32, "x" * 4000, "a b", "tok,en"]
)
async def test_an_unknown_or_malformed_token_is_invalid_token(env: Env, token: str) -> None:
    response = await env.http.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith(CHALLENGE + ', error="invalid_token"')


async def test_a_revoked_token_is_invalid_token(env: Env) -> None:
    client_id, token = await _access_token(env)
    await env.revoke(client_id, token)
    response = await env.api(token)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_an_expired_token_is_invalid_token(env: Env) -> None:
    _, token = await _access_token(env)
    env.clock.advance(3600)
    response = await env.api(token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_token_for_another_audience_is_invalid_token(make_env: EnvFactory) -> None:
    """RFC8707-2-AUDIENCE: a token requested for this origin's /api is no good on another origin."""
    env = make_env({"allowed_hosts": [ORIGIN, "http://other.example"]})
    _, token = await _access_token(env, resource=RESOURCE)
    assert (await env.api(token)).status_code == 200
    response = await env.http.get("http://other.example/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_a_token_is_accepted_only_under_its_resource_path(make_env: EnvFactory) -> None:
    env = make_env({"api_route": ["/api/", "/admin/"], "api_handler": tagged_app("api")})
    _, token = await _access_token(env, resource=RESOURCE)
    assert (await env.api(token, "/api/anything")).status_code == 200
    outside = await env.api(token, "/admin/anything")
    assert outside.status_code == 401
    assert outside.json()["error"] == "invalid_token"


async def test_a_token_requested_without_a_resource_works_on_every_api_route(make_env: EnvFactory) -> None:
    """As in the seed: a grant whose requests named no resource is bound to none (RFC 8707 binds
    tokens to the resources a client asks for; a client that asks for none gets this provider's)."""
    env = make_env({"api_route": ["/api/", "/admin/"], "api_handler": tagged_app("api")})
    _, token = await _access_token(env)
    for path in ("/api/anything", "/admin/anything"):
        response = await env.api(token, path)
        assert response.status_code == 200, path
        assert response.json()["oauth"]["audience"] is None


async def test_a_token_in_the_query_string_is_ignored(env: Env) -> None:
    """OAuth 2.1 section 5.1: bearer tokens only in the Authorization header."""
    _, token = await _access_token(env)
    response = await env.http.get("/api/whoami", params={"access_token": token})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_a_token_in_a_form_body_is_ignored(env: Env) -> None:
    _, token = await _access_token(env)
    response = await env.http.post("/api/whoami", data={"access_token": token})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_a_token_both_in_the_header_and_a_form_body_is_refused(
    env: Env,
) -> None:
    """RFC6750-3.1-ONE-METHOD: two ways at once is invalid_request; the form body is read only for a POST."""
    _, token = await _access_token(env)
    headers = {"Authorization": f"Bearer {token}"}
    response = await env.http.post("/api/whoami", data={"access_token": token}, headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert (await env.http.post("/api/whoami", data={"note": "x"}, headers=headers)).status_code == 200


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
async def test_the_bearer_scheme_is_case_insensitive(env: Env, scheme: str) -> None:
    """RFC 9110 section 11.1: authentication scheme names are case-insensitive."""
    _, token = await _access_token(env)
    response = await env.http.get("/api/whoami", headers={"Authorization": f"{scheme} {token}"})
    assert response.status_code == 200


async def test_extra_whitespace_around_the_token_is_tolerated(env: Env) -> None:
    _, token = await _access_token(env)
    response = await env.http.get("/api/whoami", headers={"Authorization": f"Bearer \t {token} "})
    assert response.status_code == 200


async def test_api_errors_are_open_to_browsers(env: Env) -> None:
    response = await env.http.get("/api/whoami", headers={"Origin": "https://spa.example"})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    assert "WWW-Authenticate" in response.headers["access-control-expose-headers"]
    preflight = await env.http.options("/api/whoami", headers={"Origin": "https://spa.example"})
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


async def test_the_handler_reaches_context_and_helpers_through_scope_and_request_state(make_env: EnvFactory) -> None:
    env = make_env({"api_handler": tagged_app("api")})
    client_id, token = await _access_token(env, "email", resource=RESOURCE)
    body = (await env.api(token, "/api/x")).json()
    assert body["tag"] == "api"
    assert body["oauth"]["client_id"] == client_id
    assert body["oauth"]["user_id"] == "test-user"
    assert body["oauth"]["scope"] == ["email"]
    assert body["oauth"]["props"]["user_id"] == "test-user"
    assert body["oauth"]["audience"] == [RESOURCE]
    assert len(body["oauth"]["grant_id"]) == 16
    assert body["state_oauth"] is True  # request.state.oauth under Starlette
    assert body["helpers"] is True


async def test_the_handler_can_use_the_helpers_it_is_given(make_env: EnvFactory) -> None:
    seen: list[tuple[ApiContext, OAuthHelpers]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        ctx = api_context(scope)
        helpers = provider_helpers(scope)
        seen.append((ctx, helpers))
        assert ctx.user_id is not None
        grants = await helpers.list_user_grants(ctx.user_id)
        assert len(grants.items) == 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    env = make_env({"api_handler": app})
    _, token = await _access_token(env)
    assert (await env.api(token)).status_code == 204
    assert seen[0][1] is env.provider.helpers


def test_api_context_outside_an_api_handler_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="not inside an API handler"):
        api_context({})
    with pytest.raises(LookupError, match="not inside a handler called by OAuthProvider"):
        provider_helpers({})


async def test_an_unguarded_path_is_not_checked(env: Env) -> None:
    response = await env.http.get("/", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200

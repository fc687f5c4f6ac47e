"""The authorization code grant at the token endpoint (OAuth 2.1 section 4.1.3, RFC 7636)."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference.machinery import crypto
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import basic
from reference.tests.conftest import load_grant
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import token_keys

pytestmark = pytest.mark.anyio


def exchange(code: str, client_id: str, **extra: str | None) -> dict[str, str]:
    data = {"grant_type": "authorization_code", "code": code, "client_id": client_id, **extra}
    return {k: v for k, v in data.items() if v is not None}


async def test_a_code_is_exchanged_for_bearer_tokens(env: Env) -> None:
    """OAUTH21-3.2.3-RESPONSE: access_token, token_type, expires_in, scope, refresh_token (and the
    resource the authorization request named)."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"], scope="profile email", resource=f"{ORIGIN}/api")
    response = await env.token(exchange(code, client["client_id"], code_verifier=verifier, redirect_uri=REDIRECT))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "refresh_token", "resource"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "profile email"
    assert body["resource"] == f"{ORIGIN}/api"
    user_id, grant_id, secret = body["access_token"].split(":")
    assert user_id == "test-user"
    assert len(grant_id) == 16
    assert len(secret) == 32
    assert body["refresh_token"] != body["access_token"]


async def test_with_pkce_the_redirect_uri_may_be_omitted(env: Env) -> None:
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    response = await env.token(exchange(code, client["client_id"], code_verifier=verifier))
    assert response.status_code == 200


async def test_a_missing_code_is_an_invalid_request(env: Env) -> None:
    client = await env.register()
    response = await env.token(exchange("", client["client_id"], code_verifier="x" * 43))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "code",
    ["nonsense", "a:b", "a:b:c:d", "test-user:short:secret", "test-user:AAAAAAAAAAAAAAAA:secret", "::"],
)
async def test_an_unknown_or_malformed_code_is_an_invalid_grant(env: Env, code: str) -> None:
    client = await env.register()
    response = await env.token(exchange(code, client["client_id"], code_verifier="x" * 43))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_right_shaped_code_with_a_wrong_secret_is_an_invalid_grant_and_leaves_the_real_code_usable(
    env: Env,
) -> None:
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    user_id, grant_id, _ = code.split(":")
    forged = f"{user_id}:{grant_id}:{'A' * 32}"
    response = await env.token(exchange(forged, client["client_id"], code_verifier=verifier))
    assert response.json()["error"] == "invalid_grant"
    assert (await env.token(exchange(code, client["client_id"], code_verifier=verifier))).status_code == 200


async def test_a_replayed_code_is_refused_and_revokes_its_tokens(env: Env) -> None:
    """OAUTH21-4.1.3-CODE-ONCE, RFC 6749 section 4.1.2: a second use revokes what the first issued."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    first = await env.token(exchange(code, client["client_id"], code_verifier=verifier))
    tokens = first.json()
    assert (await env.api(tokens["access_token"])).status_code == 200
    again = await env.token(exchange(code, client["client_id"], code_verifier=verifier))
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert (await env.api(tokens["access_token"])).status_code == 401
    refresh = await env.refresh(client["client_id"], tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    assert await load_grant(env.storage, code) is None
    assert await token_keys(env.storage, code) == []


async def test_a_replay_with_a_wrong_verifier_is_refused_without_revoking(env: Env) -> None:
    """OAUTH21-7.5.3-NO-DOS-REVOKE: holding a leaked code without its verifier ends nobody's session."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    tokens = (await env.token(exchange(code, client["client_id"], code_verifier=verifier))).json()
    wrong, _ = pkce_pair()
    again = await env.token(exchange(code, client["client_id"], code_verifier=wrong))
    assert again.json()["error"] == "invalid_grant"
    assert (await env.api(tokens["access_token"])).status_code == 200
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200


async def test_a_code_issued_to_another_client_is_refused_and_stays_usable(env: Env) -> None:
    """OAUTH21-4.1.3-CLIENT-BIND."""
    owner = await env.register()
    thief = await env.register()
    code, verifier = await env.code(owner["client_id"])
    stolen = await env.token(exchange(code, thief["client_id"], code_verifier=verifier))
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    assert (await env.token(exchange(code, owner["client_id"], code_verifier=verifier))).status_code == 200


async def test_a_redirect_uri_other_than_the_authorization_requests_is_refused(env: Env) -> None:
    """OAUTH21-10.2-REDIRECT-URI: even another registered URI, or another loopback port."""
    other = "https://app.example.com/cb"
    client = await env.register(redirect_uris=[REDIRECT, other])
    code, verifier = await env.code(client["client_id"])
    for uri in (other, "http://127.0.0.1:10/cb", "https://evil.example/cb"):
        response = await env.token(exchange(code, client["client_id"], code_verifier=verifier, redirect_uri=uri))
        assert response.status_code == 400, uri
        assert response.json()["error"] == "invalid_grant"
    ok = await env.token(exchange(code, client["client_id"], code_verifier=verifier, redirect_uri=REDIRECT))
    assert ok.status_code == 200


# --- PKCE (RFC 7636 section 4.6) ------------------------------------------------------------


async def test_a_wrong_code_verifier_is_an_invalid_grant(env: Env) -> None:
    """RFC7636-4.6-S256-VERIFY."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    wrong = pkce_pair()[0]
    response = await env.token(exchange(code, client["client_id"], code_verifier=wrong))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    # The code was not consumed by the failed attempt.
    assert (await env.token(exchange(code, client["client_id"], code_verifier=verifier))).status_code == 200


async def test_the_challenge_itself_is_not_accepted_as_the_verifier(env: Env) -> None:
    client = await env.register()
    _, challenge = pkce_pair()
    response = await env.authorize(client["client_id"], code_challenge=challenge, code_challenge_method="S256")
    code = query_of(response.headers["location"])["code"][0]
    refused = await env.token(exchange(code, client["client_id"], code_verifier=challenge))
    assert refused.json()["error"] == "invalid_grant"


async def test_a_missing_code_verifier_is_an_invalid_grant(env: Env) -> None:
    """RFC 7636 section 4.6: without the verifier the check fails; OAuth 2.1 section 4.1.3 says invalid_grant."""
    client = await env.register()
    code, _ = await env.code(client["client_id"])
    response = await env.token(exchange(code, client["client_id"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "verifier",
    ["short", "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " ", "é" * 43],
)
async def test_a_malformed_code_verifier_is_an_invalid_grant(env: Env, verifier: str) -> None:
    """RFC7636-4.1-VERIFIER-SYNTAX: 43 to 128 characters of [A-Za-z0-9-._~]."""
    client = await env.register()
    code, _ = await env.code(client["client_id"])
    response = await env.token(exchange(code, client["client_id"], code_verifier=verifier))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_verifier_for_a_code_issued_without_a_challenge_is_refused(env: Env) -> None:
    """OAUTH21-4.1.3-PKCE-DOWNGRADE: a verifier with no stored challenge signals a PKCE downgrade attack."""
    client = await env.register(token_endpoint_auth_method="client_secret_post")
    response = await env.authorize(client["client_id"], state="s")
    code = query_of(response.headers["location"])["code"][0]
    auth = {"client_secret": client["client_secret"]}
    refused = await env.token(
        exchange(code, client["client_id"], code_verifier=pkce_pair()[0], redirect_uri=REDIRECT, **auth)
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    ok = await env.token(exchange(code, client["client_id"], redirect_uri=REDIRECT, **auth))
    assert ok.status_code == 200


async def test_a_code_issued_without_pkce_needs_the_redirect_uri(env: Env) -> None:
    """RFC 6749 section 4.1.3: redirect_uri is required if it was in the authorization request."""
    client = await env.register(token_endpoint_auth_method="client_secret_post")
    response = await env.authorize(client["client_id"], state="s")
    code = query_of(response.headers["location"])["code"][0]
    refused = await env.token(exchange(code, client["client_id"], client_secret=client["client_secret"]))
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"


async def test_plain_pkce_verifies_when_allowed(make_env: EnvFactory) -> None:
    env = make_env({"allow_plain_pkce": True})
    client = await env.register()
    verifier, _ = pkce_pair()
    response = await env.authorize(client["client_id"], code_challenge=verifier, code_challenge_method="plain")
    code = query_of(response.headers["location"])["code"][0]
    wrong = await env.token(exchange(code, client["client_id"], code_verifier=verifier[:-1] + "x"))
    assert wrong.json()["error"] == "invalid_grant"
    assert (await env.token(exchange(code, client["client_id"], code_verifier=verifier))).status_code == 200


# --- resource and scope ---------------------------------------------------------------------


async def test_a_resource_other_than_the_granted_one_is_an_invalid_target(env: Env) -> None:
    """RFC8707-2.2-TOKEN-TARGET; the code survives the refusal."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"])
    response = await env.token(
        exchange(code, client["client_id"], code_verifier=verifier, resource="https://other.example/api")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"
    ok = await env.token(exchange(code, client["client_id"], code_verifier=verifier, resource=f"{ORIGIN}/api"))
    assert ok.status_code == 200
    assert ok.json()["resource"] == f"{ORIGIN}/api"


async def test_the_token_request_may_narrow_the_scope(env: Env) -> None:
    client = await env.register()
    code, verifier = await env.code(client["client_id"], scope="profile email")
    response = await env.token(exchange(code, client["client_id"], code_verifier=verifier, scope="email"))
    assert response.json()["scope"] == "email"
    assert (await env.api(response.json()["access_token"])).json()["scope"] == ["email"]


async def test_the_token_request_may_not_widen_the_scope(env: Env) -> None:
    """OAuth 2.1 section 3.2.3: a scope beyond the grant is invalid_scope; the code stays usable."""
    client = await env.register()
    code, verifier = await env.code(client["client_id"], scope="profile")
    response = await env.token(exchange(code, client["client_id"], code_verifier=verifier, scope="profile email"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert (await env.token(exchange(code, client["client_id"], code_verifier=verifier))).status_code == 200


async def test_a_grant_without_scope_yields_an_empty_scope_string(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert tokens["scope"] == ""


# --- confidential clients and grant types ---------------------------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_a_confidential_client_exchanges_its_code_with_its_secret(env: Env, method: str) -> None:
    client = await env.register(token_endpoint_auth_method=method)
    code, verifier = await env.code(client["client_id"])
    data = exchange(code, client["client_id"], code_verifier=verifier)
    kwargs: dict[str, Any] = {}
    if method == "client_secret_basic":
        del data["client_id"]
        kwargs["headers"] = basic(client["client_id"], client["client_secret"])
    else:
        data["client_secret"] = client["client_secret"]
    response = await env.token(data, **kwargs)
    assert response.status_code == 200, response.text


async def test_a_client_not_registered_for_the_code_grant_is_an_unauthorized_client(make_env: EnvFactory) -> None:
    env = make_env({"allow_implicit_flow": True})
    client = await env.register(grant_types=["implicit"], response_types=["token"])
    response = await env.token(exchange("a:AAAAAAAAAAAAAAAA:b", client["client_id"], code_verifier="x" * 43))
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_the_exchange_stores_only_hashes_of_what_it_issued(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    grant = await load_grant(env.storage, tokens["access_token"])
    assert grant is not None
    assert grant.refresh_token_id == crypto.sha256_hex(tokens["refresh_token"])
    keys = await token_keys(env.storage, tokens["access_token"])
    assert keys == [f"token:{grant.user_id}:{grant.id}:{crypto.sha256_hex(tokens['access_token'])}"]
    assert grant.code_used
    assert grant.auth_code_wrapped_key is None

"""RFC 7662 token introspection and RFC 9126 pushed authorization requests in the reference."""

from __future__ import annotations

from typing import Any

import pytest

from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio
INTROSPECT = "/oauth/introspect"
PAR = "/oauth/par"


@pytest.fixture
def full(make_env: EnvFactory) -> Env:
    return make_env({"introspection_endpoint": INTROSPECT, "pushed_authorization_request_endpoint": PAR})


async def confidential(env: Env) -> dict[str, Any]:
    return await env.register(token_endpoint_auth_method="client_secret_post")


async def own_tokens(env: Env, client: dict[str, Any]) -> dict[str, Any]:
    code, verifier = await env.code(client["client_id"])
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    response = await env.token({**data, "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def introspect(env: Env, client: dict[str, Any] | None, token: str, **extra: str) -> Any:
    auth = {"client_id": client["client_id"], "client_secret": client["client_secret"]} if client else {}
    return await env.http.post(INTROSPECT, data={"token": token, **auth, **extra})


async def test_a_client_introspects_its_own_tokens(full: Env) -> None:
    """RFC7662-2.2-ACTIVE, RFC7662-2.1-HINT-FALLBACK, RFC7662-4-REVOKED."""
    client = await confidential(full)
    tokens = await own_tokens(full, client)
    response = await introspect(full, client, tokens["access_token"], token_type_hint="refresh_token")
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True and body["client_id"] == client["client_id"] and body["token_type"] == "Bearer"
    assert (await introspect(full, client, tokens["refresh_token"])).json()["active"] is True
    await full.revoke(client["client_id"], tokens["refresh_token"], client_secret=client["client_secret"])
    assert (await introspect(full, client, tokens["access_token"])).json() == {"active": False}


async def test_the_audience_is_the_resource_the_request_named(make_env: EnvFactory) -> None:
    """RFC 7662 section 2.2's aud: the one resource as a string; no aud for a token bound to none."""
    resource = "https://api.example.com/"
    env = make_env({"introspection_endpoint": INTROSPECT, "resource_metadata": {"resource": resource}})
    client = await confidential(env)
    unbound = await own_tokens(env, client)
    assert "aud" not in (await introspect(env, client, unbound["access_token"])).json()
    code, verifier = await env.code(client["client_id"], resource=resource)
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    response = await env.token({**data, "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert response.status_code == 200, response.text
    body = (await introspect(env, client, response.json()["access_token"])).json()
    assert body["active"] is True and body["aud"] == resource


async def test_introspection_tells_nothing_to_the_unauthorized(full: Env) -> None:
    """RFC7662-2.1-AUTHZ, RFC7662-2.3-401, RFC7662-2.2-INACTIVE, RFC7662-2.3-NOT-AN-ERROR."""
    client = await confidential(full)
    tokens = await own_tokens(full, client)
    assert (await introspect(full, None, tokens["access_token"])).status_code == 401
    wrong = {**client, "client_secret": "x" * 40}
    assert (await introspect(full, wrong, tokens["access_token"])).status_code == 401
    public = await full.register()
    anonymous = await full.http.post(
        INTROSPECT, data={"token": tokens["access_token"], "client_id": public["client_id"]}
    )
    assert anonymous.status_code == 401
    stranger = await confidential(full)
    assert (await introspect(full, stranger, tokens["access_token"])).json() == {"active": False}
    assert (await introspect(full, client, "not-a-token")).json() == {"active": False}


async def test_an_expired_token_is_inactive(full: Env) -> None:
    """RFC7662-4-EXPIRED."""
    client = await confidential(full)
    tokens = await own_tokens(full, client)
    full.clock.advance(7200)
    assert (await introspect(full, client, tokens["access_token"])).json() == {"active": False}


async def push(env: Env, client: dict[str, Any], **params: str) -> Any:
    verifier, challenge = pkce_pair()
    data = {
        "client_id": client["client_id"],
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    if "client_secret" in client:
        data["client_secret"] = client["client_secret"]
    return await env.http.post(PAR, data={k: v for k, v in data.items() if v}), verifier


async def test_a_pushed_request_starts_one_authorization(full: Env) -> None:
    """RFC9126-2.2-CREATED, RFC9126-2.2-FLOW, RFC9126-4-ONE-TIME, RFC9126-2.2-CLIENT-BOUND."""
    client = await full.register()
    response, _ = await push(full, client)
    assert response.status_code == 201, response.text
    request_uri = response.json()["request_uri"]
    assert response.json()["expires_in"] == 60
    other = await full.register()
    stolen = await full.http.get("/authorize", params={"client_id": other["client_id"], "request_uri": request_uri})
    assert stolen.status_code == 400
    done = await full.http.get("/authorize", params={"client_id": client["client_id"], "request_uri": request_uri})
    assert done.status_code == 302 and "code" in query_of(done.headers["location"])
    again = await full.http.get("/authorize", params={"client_id": client["client_id"], "request_uri": request_uri})
    assert again.status_code == 400


async def test_pushed_requests_are_validated_and_authenticated(full: Env) -> None:
    """RFC9126-2.1-NO-REQUEST-URI, RFC9126-2.1-VALIDATE, RFC9126-2.1-CLIENT-AUTH, RFC9126-4-EXPIRED."""
    client = await full.register()
    assert (await push(full, client, request_uri="urn:x"))[0].status_code == 400
    assert (await push(full, client, redirect_uri="https://elsewhere.example/cb"))[0].status_code == 400
    assert (await push(full, client, code_challenge=""))[0].json()["error"] == "invalid_request"
    secret = await confidential(full)
    refused, _ = await push(full, {**secret, "client_secret": "y" * 40})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    late, _ = await push(full, client)
    full.clock.advance(120)
    gone = await full.http.get(
        "/authorize", params={"client_id": client["client_id"], "request_uri": late.json()["request_uri"]}
    )
    assert gone.status_code == 400


async def test_par_can_be_required_by_the_server_or_a_client(make_env: EnvFactory, full: Env) -> None:
    """RFC9126-4-REQUIRED, RFC9126-6-CLIENT-REQUIRED."""
    strict = make_env({"pushed_authorization_request_endpoint": PAR, "require_pushed_authorization_requests": True})
    assert (await strict.metadata())["require_pushed_authorization_requests"] is True
    client = await strict.register()
    refused = await strict.authorize(client["client_id"], code_challenge=pkce_pair()[1], code_challenge_method="S256")
    assert refused.status_code == 302 and query_of(refused.headers["location"])["error"] == ["invalid_request"]
    response, _ = await push(strict, client)
    ok = await strict.http.get(
        "/authorize", params={"client_id": client["client_id"], "request_uri": response.json()["request_uri"]}
    )
    assert "code" in query_of(ok.headers["location"])
    own = await full.register(require_pushed_authorization_requests=True)
    assert own["require_pushed_authorization_requests"] is True
    plain = await full.authorize(own["client_id"], code_challenge=pkce_pair()[1], code_challenge_method="S256")
    assert query_of(plain.headers["location"])["error"] == ["invalid_request"]

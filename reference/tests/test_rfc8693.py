"""RFC 8693 token exchange: never wider, bound to the subject's client and resource, dies with the grant."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference import TokenExchangeCallbackResult
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory

pytestmark = pytest.mark.anyio
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"


@pytest.fixture
def tx(make_env: EnvFactory) -> Env:
    env: Env = make_env({"allow_token_exchange_grant": True})
    return env


async def client_and_tokens(env: Env, resource: str | None = f"{ORIGIN}/api") -> tuple[str, dict[str, Any]]:
    """A client that may exchange tokens, and tokens bound to ``resource`` (the demo's API by default)."""
    client = await env.register(grant_types=["authorization_code", "refresh_token", EXCHANGE])
    return client["client_id"], await env.tokens(client["client_id"], scope="profile email", resource=resource)


def exchange_form(client_id: str, subject: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": EXCHANGE,
        "client_id": client_id,
        "subject_token": subject,
        "subject_token_type": ACCESS,
        **extra,
    }


async def test_token_exchange_is_advertised_only_when_on(tx: Env, env: Env) -> None:
    on = (await tx.http.get("/.well-known/oauth-authorization-server")).json()
    off = (await env.http.get("/.well-known/oauth-authorization-server")).json()
    assert EXCHANGE in on["grant_types_supported"]
    assert EXCHANGE not in off["grant_types_supported"]


async def test_exchange_issues_a_narrower_access_token_and_no_refresh_token(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx)
    response = await tx.token(exchange_form(client_id, tokens["access_token"], scope="profile"))
    body = response.json()
    assert response.status_code == 200, body
    assert body["issued_token_type"] == ACCESS
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "profile"
    assert "refresh_token" not in body
    assert response.headers["cache-control"] == "no-store"
    assert (await tx.api(body["access_token"])).json()["scope"] == ["profile"]


async def test_exchange_never_widens_the_scope(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx)
    response = await tx.token(exchange_form(client_id, tokens["access_token"], scope="profile documents.write"))
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"subject_token": "test-user:AAAAAAAAAAAAAAAA:forged"}, "invalid_request"),
        ({"subject_token_type": "urn:ietf:params:oauth:token-type:refresh_token"}, "invalid_request"),
        ({"requested_token_type": "urn:ietf:params:oauth:token-type:jwt"}, "invalid_request"),
        ({"actor_token": "x"}, "invalid_request"),
        ({"actor_token_type": ACCESS}, "invalid_request"),
        ({"resource": "https://elsewhere.example/api"}, "invalid_target"),
        ({"audience": "https://elsewhere.example/api"}, "invalid_target"),
    ],
)
async def test_bad_exchange_requests_are_refused(tx: Env, change: dict[str, str], error: str) -> None:
    client_id, tokens = await client_and_tokens(tx)
    response = await tx.token({**exchange_form(client_id, tokens["access_token"]), **change})
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_a_refresh_token_is_not_accepted_as_an_access_token(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx)
    response = await tx.token(exchange_form(client_id, tokens["refresh_token"]))
    assert response.json()["error"] == "invalid_request"


async def test_another_clients_subject_token_is_refused(tx: Env) -> None:
    _, tokens = await client_and_tokens(tx)
    other, _ = await client_and_tokens(tx)
    response = await tx.token(exchange_form(other, tokens["access_token"]))
    assert response.json()["error"] == "invalid_request"


async def test_clients_must_register_the_grant_type(tx: Env) -> None:
    plain = await tx.register()
    tokens = await tx.tokens(plain["client_id"])
    response = await tx.token(exchange_form(plain["client_id"], tokens["access_token"]))
    assert response.json()["error"] == "unauthorized_client"


async def test_exchanged_tokens_die_with_their_grant(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx)
    exchanged = (await tx.token(exchange_form(client_id, tokens["access_token"]))).json()["access_token"]
    await tx.token({"token": tokens["refresh_token"], "client_id": client_id})  # revokes the grant
    assert (await tx.api(exchanged)).status_code == 401


async def test_the_exchanged_token_never_outlives_the_subject(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx)
    tx.clock.advance(3000)
    body = (await tx.token(exchange_form(client_id, tokens["access_token"]))).json()
    assert body["expires_in"] <= 600


async def test_callback_may_rewrite_props_and_allow_cross_client_exchange(make_env: EnvFactory) -> None:
    def callback(options: Any) -> TokenExchangeCallbackResult | None:
        if options.grant_type == EXCHANGE:
            return TokenExchangeCallbackResult(access_token_props={"exchanged": True}, allow_cross_client_exchange=True)
        return None

    env: Env = make_env({"allow_token_exchange_grant": True, "token_exchange_callback": callback})
    _, tokens = await client_and_tokens(env)
    other, _ = await client_and_tokens(env)
    response = await env.token(exchange_form(other, tokens["access_token"]))
    assert response.status_code == 200
    assert (await env.api(response.json()["access_token"])).json()["props"] == {"exchanged": True}


async def test_helper_exchanges_as_the_subjects_own_client(tx: Env) -> None:
    _, tokens = await client_and_tokens(tx)
    result = await tx.provider.helpers.exchange_token(tokens["access_token"], scope=["email"])
    assert result["scope"] == "email"
    assert result["resource"] == f"{ORIGIN}/api"


async def test_a_token_bound_to_no_resource_may_be_exchanged_for_one_bound_to_a_served_resource(tx: Env) -> None:
    client_id, tokens = await client_and_tokens(tx, resource=None)
    assert "resource" not in tokens
    bound = await tx.token(exchange_form(client_id, tokens["access_token"], resource=f"{ORIGIN}/api"))
    assert bound.status_code == 200, bound.text
    assert bound.json()["resource"] == f"{ORIGIN}/api"
    foreign = await tx.token(exchange_form(client_id, tokens["access_token"], resource="https://elsewhere.example/"))
    assert foreign.json()["error"] == "invalid_target"
    same = await tx.token(exchange_form(client_id, tokens["access_token"]))
    assert "resource" not in same.json()  # still bound to none, like its subject

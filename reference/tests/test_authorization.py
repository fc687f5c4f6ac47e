"""The authorization endpoint, through the demo application's ``/authorize`` (auto-approve).

The application owns the endpoint; it calls ``parse_auth_request`` and redirects only when the
error carries ``redirect_to`` (OAuth 2.1 section 4.1.2.1).
"""

from __future__ import annotations

import pytest

from oauth_reference.specs import rfc7636
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

CHALLENGE = pkce_pair()[1]


async def test_an_approved_request_redirects_with_code_state_and_iss(env: Env) -> None:
    """OAUTH21-4.1.2-RESPONSE, RFC9207-2-ISS."""
    client = await env.register()
    response = await env.authorize(
        client["client_id"], code_challenge=CHALLENGE, code_challenge_method="S256", state="xyz 123"
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == ["xyz 123"]
    assert params["iss"] == [ORIGIN]
    assert params["code"][0].startswith("test-user:")


async def test_without_state_the_redirect_carries_no_state(env: Env) -> None:
    client = await env.register()
    for state in (None, ""):  # OAuth 2.1 section 3.1: an empty parameter is an omitted one
        response = await env.authorize(
            client["client_id"], code_challenge=CHALLENGE, code_challenge_method="S256", state=state
        )
        assert "state" not in query_of(response.headers["location"])


async def test_the_registered_redirect_uris_own_query_is_kept(env: Env) -> None:
    """OAUTH21-2.3-QUERY: the redirect URI's query component is retained when parameters are added."""
    uri = "https://app.example.com/cb?tenant=7"
    client = await env.register(redirect_uris=[uri])
    ok = await env.authorize(
        client["client_id"], redirect_uri=uri, code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    params = query_of(ok.headers["location"])
    assert params["tenant"] == ["7"]
    assert "code" in params
    failed = await env.authorize(client["client_id"], redirect_uri=uri, state="s")  # no PKCE: an error
    params = query_of(failed.headers["location"])
    assert params["tenant"] == ["7"]
    assert params["error"] == ["invalid_request"]


async def test_redirect_uri_may_be_omitted_when_the_client_registered_exactly_one(env: Env) -> None:
    client = await env.register()
    response = await env.authorize(
        client["client_id"], redirect_uri=None, code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(REDIRECT + "?code=")


# --- errors that must not redirect (OAUTH21-4.1.2.1-NO-REDIRECT) ----------------------------


async def _client_with_two_uris(env: Env) -> str:
    client = await env.register(redirect_uris=[REDIRECT, "https://app.example.com/cb"])
    return str(client["client_id"])


@pytest.mark.parametrize(
    ("case", "params"),
    [
        ("missing client_id", {"client_id": None}),
        ("unknown client_id", {"client_id": "no-such-client"}),
        ("unregistered redirect_uri", {"redirect_uri": "https://evil.example/cb"}),
        ("redirect_uri with a fragment", {"redirect_uri": REDIRECT + "#frag"}),
        ("javascript redirect_uri", {"redirect_uri": "javascript:alert(1)"}),
        ("redirect_uri omitted with two registered", {"redirect_uri": None}),
    ],
)
async def test_errors_before_the_redirect_uri_is_trusted_are_shown_not_redirected(
    env: Env, case: str, params: dict[str, str | None]
) -> None:
    client_id = await _client_with_two_uris(env)
    query = {
        "client_id": client_id,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "s",
        **params,
    }
    # client_id may be None (the ignore): the missing client_id case.
    response = await env.authorize(**query)  # type: ignore[arg-type]
    assert response.status_code == 400, case
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "invalid_request" in response.text


@pytest.mark.parametrize("name", ["client_id", "redirect_uri"])
async def test_a_repeated_client_id_or_redirect_uri_is_not_redirected(env: Env, name: str) -> None:
    client = await env.register()
    value = client["client_id"] if name == "client_id" else REDIRECT
    query = [
        ("response_type", "code"),
        ("client_id", client["client_id"]),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        (name, value),
    ]
    response = await env.http.get("/authorize", params=query)
    assert response.status_code == 400
    assert "location" not in response.headers


# --- errors sent back to the client, with state and iss (RFC9207-2-ERROR) -------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "id_token"}, "unsupported_response_type"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # OAUTH21-4.1.2.1-PKCE-PUBLIC
        ({"code_challenge": None}, "invalid_request"),  # a method without a challenge
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge_method": "s256"}, "invalid_request"),  # method names are case-sensitive
        ({"code_challenge_method": "plain"}, "invalid_request"),  # the demo config disallows plain
        ({"code_challenge": "abc"}, "invalid_request"),  # RFC7636-4.2-CHALLENGE-SYNTAX
        ({"code_challenge": CHALLENGE + "A"}, "invalid_request"),  # S256 challenges are 43 characters
        ({"code_challenge": CHALLENGE[:-1] + "="}, "invalid_request"),
        ({"scope": "profile admin"}, "invalid_scope"),  # unknown when scopes_supported is set
        ({"scope": 'pro"file'}, "invalid_scope"),  # RFC 6749 section 3.3 syntax
        ({"resource": "https://elsewhere.example/api"}, "invalid_target"),  # RFC8707-2-INVALID-TARGET
        ({"resource": "/api"}, "invalid_target"),
        ({"resource": f"{ORIGIN}/api#frag"}, "invalid_target"),
    ],
)
async def test_errors_after_the_redirect_uri_is_trusted_are_redirected_with_state_and_iss(
    env: Env, params: dict[str, str | None], error: str
) -> None:
    client = await env.register()
    query: dict[str, str | None] = {
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "st",
        **params,
    }
    response = await env.authorize(client["client_id"], **query)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    got = query_of(location)
    assert got["error"] == [error]
    assert got["state"] == ["st"]
    assert got["iss"] == [ORIGIN]
    assert "code" not in got


async def test_a_repeated_parameter_other_than_resource_is_a_redirected_error(env: Env) -> None:
    client = await env.register()
    query = [
        ("response_type", "code"),
        ("client_id", client["client_id"]),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("scope", "profile"),
        ("scope", "email"),
        ("state", "s"),
    ]
    response = await env.http.get("/authorize", params=query)
    got = query_of(response.headers["location"])
    assert got["error"] == ["invalid_request"]


async def test_two_different_resources_are_an_invalid_target(env: Env) -> None:
    client = await env.register()
    query = [
        ("response_type", "code"),
        ("client_id", client["client_id"]),
        ("redirect_uri", REDIRECT),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("resource", f"{ORIGIN}/api"),
        ("resource", "https://other.example/api"),
    ]
    response = await env.http.get("/authorize", params=query)
    assert query_of(response.headers["location"])["error"] == ["invalid_target"]


async def test_the_configured_resource_may_be_named_and_becomes_the_tokens_audience(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], resource=f"{ORIGIN}/api")
    assert tokens["resource"] == f"{ORIGIN}/api"
    assert (await env.api(tokens["access_token"])).status_code == 200


async def test_parameters_the_provider_does_not_know_are_ignored(env: Env) -> None:
    client = await env.register()
    response = await env.authorize(
        client["client_id"], code_challenge=CHALLENGE, code_challenge_method="S256", nonce="n", prompt="consent"
    )
    assert "code" in query_of(response.headers["location"])


async def test_known_scopes_are_granted_as_requested(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"], scope="profile documents.read")
    assert tokens["scope"] == "profile documents.read"


# --- PKCE at the authorization endpoint -----------------------------------------------------


async def test_a_confidential_client_may_omit_pkce(env: Env) -> None:
    """OAuth 2.1 section 7.5.1 recommends PKCE for confidential clients; it is required only for public ones."""
    client = await env.register(token_endpoint_auth_method="client_secret_post")
    response = await env.authorize(client["client_id"], state="s")
    assert "code" in query_of(response.headers["location"])


async def test_a_well_formed_s256_challenge_of_any_verifier_is_accepted(env: Env) -> None:
    client = await env.register()
    verifier = "A" * 128
    response = await env.authorize(
        client["client_id"], code_challenge=rfc7636.s256(verifier), code_challenge_method="S256"
    )
    assert "code" in query_of(response.headers["location"])


# --- redirect URI matching -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1:9/cb", "http://127.0.0.1:54321/cb"),
        ("http://127.0.0.1:9/cb", "http://127.0.0.1/cb"),
        ("http://127.0.0.1/cb", "http://127.0.0.1:8080/cb"),
        ("http://localhost:3000/cb", "http://localhost:4000/cb"),
        ("http://[::1]:3000/cb", "http://[::1]:5000/cb"),
    ],
)
async def test_a_loopback_redirect_uri_may_use_any_port(env: Env, registered: str, requested: str) -> None:
    """OAUTH21-8.4.2-LOOPBACK-PORT: native apps get an ephemeral port at request time."""
    client = await env.register(redirect_uris=[registered])
    response = await env.authorize(
        client["client_id"], redirect_uri=requested, code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(requested + "?code=")


@pytest.mark.parametrize(
    ("registered", "requested"),
    [
        ("http://127.0.0.1:9/cb", "http://127.0.0.1:9/cb2"),
        ("http://127.0.0.1:9/cb", "http://localhost:9/cb"),
        ("http://127.0.0.1:9/cb", "http://127.0.0.2:9/cb"),
        ("http://127.0.0.1:9/cb", "https://127.0.0.1:9/cb"),
        ("http://127.0.0.1:9/cb", "http://127.0.0.1:9/cb?x=1"),
        ("https://app.example.com/cb", "https://app.example.com:8443/cb"),
        ("https://app.example.com/cb", "https://app.example.com/cb/"),
        ("https://app.example.com/cb", "https://APP.example.com/cb"),
    ],
)
async def test_any_other_difference_from_the_registered_uri_is_refused_without_redirect(
    env: Env, registered: str, requested: str
) -> None:
    """OAUTH21-2.3.1-EXACT-MATCH: simple string comparison, loopback ports aside."""
    client = await env.register(redirect_uris=[registered])
    response = await env.authorize(
        client["client_id"], redirect_uri=requested, code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_a_private_use_scheme_redirect_uri_works_when_registered(env: Env) -> None:
    uri = "com.example.app:/oauth/cb"
    client = await env.register(redirect_uris=[uri])
    response = await env.authorize(
        client["client_id"], redirect_uri=uri, code_challenge=CHALLENGE, code_challenge_method="S256"
    )
    assert response.headers["location"].startswith(uri + "?code=")

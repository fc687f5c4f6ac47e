"""Client authentication at the token endpoint (OAuth 2.1 section 2.4, RFC 6749 section 5.2).

Every failure is 401 ``invalid_client``; the response carries ``WWW-Authenticate: Basic`` exactly
when the client tried HTTP Basic (OAUTH21-3.2.4-401-BASIC).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from reference.tests.conftest import Env
from reference.tests.conftest import basic

pytestmark = pytest.mark.anyio

REFRESH = {"grant_type": "refresh_token", "refresh_token": "x:AAAAAAAAAAAAAAAA:y"}


def assert_invalid_client(response: httpx.Response, *, challenge: bool) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    assert response.headers["cache-control"] == "no-store"
    if challenge:
        assert response.headers["www-authenticate"] == 'Basic realm="OAuth"'
    else:
        assert "www-authenticate" not in response.headers


async def _confidential(env: Env, method: str | None = "client_secret_basic") -> dict[str, Any]:
    return await env.register(token_endpoint_auth_method=method)


async def test_a_request_without_any_client_identification_is_invalid_client(env: Env) -> None:
    assert_invalid_client(await env.token(REFRESH), challenge=False)


async def test_an_unknown_client_in_the_body_gets_no_challenge(env: Env) -> None:
    assert_invalid_client(await env.token({**REFRESH, "client_id": "nobody"}), challenge=False)


async def test_an_unknown_client_via_basic_gets_the_basic_challenge(env: Env) -> None:
    assert_invalid_client(await env.token(REFRESH, headers=basic("nobody", "secret")), challenge=True)


async def test_a_wrong_secret_via_basic_gets_the_basic_challenge(env: Env) -> None:
    client = await _confidential(env)
    assert_invalid_client(await env.token(REFRESH, headers=basic(client["client_id"], "wrong")), challenge=True)


async def test_a_wrong_secret_in_the_body_gets_no_challenge(make_env: Any) -> None:
    env = make_env()
    client = await _confidential(env, "client_secret_post")
    response = await env.token({**REFRESH, "client_id": client["client_id"], "client_secret": "wrong"})
    assert_invalid_client(response, challenge=False)


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":secret-without-id").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
        "Basic",
        "Basic ",
    ],
)
async def test_malformed_basic_credentials_are_invalid_client_with_the_challenge(env: Env, header: str) -> None:
    assert_invalid_client(await env.token(REFRESH, headers={"Authorization": header}), challenge=True)


async def test_the_basic_scheme_name_is_case_insensitive(env: Env) -> None:
    client = await _confidential(env)
    header = basic(client["client_id"], client["client_secret"])["Authorization"].replace("Basic", "bAsIc")
    response = await env.token(REFRESH, headers={"Authorization": header})
    assert response.status_code == 400  # authenticated; the refresh token itself is bad
    assert response.json()["error"] == "invalid_grant"


async def test_basic_credentials_are_form_decoded(env: Env) -> None:
    """OAuth 2.1 section 2.4.1: id and secret are application/x-www-form-urlencoded before Basic."""
    client = await _confidential(env)
    secret = "s3cret with spaces:colons+plus%"
    await env.provider.helpers.update_client(client["client_id"], client_secret=secret)
    response = await env.token(REFRESH, headers=basic(client["client_id"], secret))
    assert response.json()["error"] == "invalid_grant"  # past client authentication


@pytest.mark.parametrize(
    "body",
    [{"client_secret": "anything"}, {"client_id": "someone-else"}],
)
async def test_two_authentication_methods_at_once_are_an_invalid_request(env: Env, body: dict[str, str]) -> None:
    client = await _confidential(env)
    response = await env.token({**REFRESH, **body}, headers=basic(client["client_id"], client["client_secret"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_basic_with_the_same_client_id_repeated_in_the_body_is_accepted(env: Env) -> None:
    client = await _confidential(env)
    response = await env.token(
        {**REFRESH, "client_id": client["client_id"]}, headers=basic(client["client_id"], client["client_secret"])
    )
    assert response.json()["error"] == "invalid_grant"


async def test_a_public_client_that_sends_a_secret_is_refused(env: Env) -> None:
    client = await env.register()
    response = await env.token({**REFRESH, "client_id": client["client_id"], "client_secret": "x" * 32})
    assert_invalid_client(response, challenge=False)
    basic_response = await env.token(REFRESH, headers=basic(client["client_id"], "x" * 32))
    assert_invalid_client(basic_response, challenge=True)


async def test_a_confidential_client_that_sends_no_secret_is_refused(env: Env) -> None:
    client = await _confidential(env)
    assert_invalid_client(await env.token({**REFRESH, "client_id": client["client_id"]}), challenge=False)


async def test_a_client_must_use_the_method_it_registered(env: Env) -> None:
    basic_client = await _confidential(env, "client_secret_basic")
    post_client = await _confidential(env, "client_secret_post")
    via_post = await env.token(
        {**REFRESH, "client_id": basic_client["client_id"], "client_secret": basic_client["client_secret"]}
    )
    assert_invalid_client(via_post, challenge=False)
    via_basic = await env.token(REFRESH, headers=basic(post_client["client_id"], post_client["client_secret"]))
    assert_invalid_client(via_basic, challenge=True)


async def test_a_client_registered_without_a_method_may_use_either_secret_method(env: Env) -> None:
    client = await _confidential(env, None)
    via_post = await env.token({**REFRESH, "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert via_post.json()["error"] == "invalid_grant"
    via_basic = await env.token(REFRESH, headers=basic(client["client_id"], client["client_secret"]))
    assert via_basic.json()["error"] == "invalid_grant"
    assert_invalid_client(await env.token({**REFRESH, "client_id": client["client_id"]}), challenge=False)


async def test_an_empty_client_secret_counts_as_absent(env: Env) -> None:
    """OAuth 2.1 section 3.2: a parameter without a value is omitted."""
    client = await env.register()
    response = await env.token({**REFRESH, "client_id": client["client_id"], "client_secret": ""})
    assert response.json()["error"] == "invalid_grant"


async def test_client_authentication_happens_before_the_grant_type_is_looked_at(env: Env) -> None:
    response = await env.token({"grant_type": "password", "client_id": "nobody"})
    assert_invalid_client(response, challenge=False)


async def test_a_bearer_authorization_header_is_not_client_authentication(env: Env) -> None:
    client = await env.register()
    response = await env.token(
        {**REFRESH, "client_id": client["client_id"]}, headers={"Authorization": "Bearer whatever"}
    )
    assert response.json()["error"] == "invalid_grant"

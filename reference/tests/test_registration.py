"""RFC 7591 dynamic client registration at ``/oauth/register``."""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference.machinery import crypto
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import dump_store

pytestmark = pytest.mark.anyio

REGISTER = "/oauth/register"


async def _post(env: Env, body: Any) -> tuple[int, dict[str, Any]]:
    response = await env.http.post(REGISTER, json=body)
    return response.status_code, response.json()


async def test_a_public_client_is_registered_with_201_and_no_secret(env: Env) -> None:
    """RFC7591-3.2.1-201, RFC7591-3.2.1-ECHO."""
    response = await env.http.post(
        REGISTER,
        json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "My App"},
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body == {
        "client_id": body["client_id"],
        "client_id_issued_at": body["client_id_issued_at"],
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "client_name": "My App",
    }
    assert len(body["client_id"]) == 16
    assert isinstance(body["client_id_issued_at"], int)


async def test_the_default_auth_method_is_client_secret_basic_with_a_secret(env: Env) -> None:
    """RFC 7591 section 2: token_endpoint_auth_method defaults to client_secret_basic."""
    status, body = await _post(env, {"redirect_uris": [REDIRECT]})
    assert status == 201
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert len(body["client_secret"]) == 32
    assert body["client_secret_expires_at"] > body["client_id_issued_at"]


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_confidential_clients_get_a_secret_that_is_stored_only_as_a_hash(env: Env, method: str) -> None:
    status, body = await _post(env, {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": method})
    assert status == 201
    stored = await env.provider.helpers.lookup_client(body["client_id"])
    assert stored is not None
    assert stored.client_secret is None
    assert stored.client_secret_hash == crypto.sha256_hex(body["client_secret"])
    dumped = b"".join((await dump_store(env.storage)).values())
    assert body["client_secret"].encode() not in dumped


async def test_every_registered_metadata_value_is_echoed(env: Env) -> None:
    meta = {
        "redirect_uris": [REDIRECT, "https://app.example.com/cb"],
        "token_endpoint_auth_method": "client_secret_post",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "client_name": "Full",
        "client_uri": "https://app.example.com/",
        "logo_uri": "https://app.example.com/logo.png",
        "policy_uri": "https://app.example.com/policy",
        "tos_uri": "https://app.example.com/tos",
        "jwks_uri": "https://app.example.com/jwks.json",
        "contacts": ["ops@app.example.com"],
        "scope": "profile email",
        "software_id": "4NRB1-0XZABZI9E6-5SM3R",
        "software_version": "2.1",
        "application_type": "native",
    }
    status, body = await _post(env, meta)
    assert status == 201
    for name, value in meta.items():
        assert body[name] == value, name


async def test_an_inline_jwks_is_accepted_and_echoed(env: Env) -> None:
    jwks = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            }
        ]
    }
    status, body = await _post(env, {"redirect_uris": [REDIRECT], "jwks": jwks})
    assert status == 201
    assert body["jwks"] == jwks


async def test_jwks_and_jwks_uri_together_are_invalid_client_metadata(env: Env) -> None:
    """RFC 7591 section 2: jwks_uri and jwks MUST NOT both be present."""
    status, body = await _post(
        env, {"redirect_uris": [REDIRECT], "jwks": {"keys": []}, "jwks_uri": "https://app.example.com/jwks.json"}
    )
    assert status == 400
    assert body["error"] == "invalid_client_metadata"


async def test_unknown_metadata_is_ignored_and_not_echoed(env: Env) -> None:
    """RFC 7591 section 2: the server MUST ignore metadata it does not understand."""
    status, body = await _post(
        env, {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "favourite_colour": "teal"}
    )
    assert status == 201
    assert "favourite_colour" not in body


async def test_duplicate_redirect_uris_are_stored_once(env: Env) -> None:
    status, body = await _post(env, {"redirect_uris": [REDIRECT, REDIRECT], "token_endpoint_auth_method": "none"})
    assert status == 201
    assert body["redirect_uris"] == [REDIRECT]


@pytest.mark.parametrize(
    "redirect_uris",
    [
        None,
        [],
        ["javascript:alert(1)"],
        ["data:text/html,hi"],
        ["https://app.example.com/cb#frag"],
        ["https://user:pw@app.example.com/cb"],
        ["http://app.example.com/cb"],  # remote http
        ["/relative/cb"],
        ["HTTPS://app.example.com/cb"],
        ["myapp:/cb"],  # a private-use scheme must be a reverse domain name
        ["https://app.example.com:99999/cb"],
        ["https://app.example.com/c b"],
        [REDIRECT, "https://app.example.com/cb#x"],  # one bad URI spoils the registration
    ],
)
async def test_an_invalid_redirect_uri_is_refused_with_invalid_redirect_uri(env: Env, redirect_uris: Any) -> None:
    """RFC7591-3.2.2-INVALID-REDIRECT."""
    body: dict[str, Any] = {"token_endpoint_auth_method": "none"}
    if redirect_uris is not None:
        body["redirect_uris"] = redirect_uris
    status, answer = await _post(env, body)
    assert status == 400
    assert answer["error"] == "invalid_redirect_uri"
    assert await dump_store(env.storage) == {}


@pytest.mark.parametrize(
    "meta",
    [
        {"redirect_uris": "https://app.example.com/cb"},  # not an array
        {"redirect_uris": [1]},
        {"token_endpoint_auth_method": "private_key_jwt"},
        {"token_endpoint_auth_method": 5},
        {"grant_types": ["implicit"], "response_types": ["token"]},  # implicit is off
        {"grant_types": ["password"]},
        {"grant_types": "authorization_code"},
        {"response_types": ["code id_token"]},
        {"grant_types": ["refresh_token"]},  # code response type without the code grant
        {"client_name": 7},
        {"logo_uri": "javascript:alert(1)"},
        {"client_uri": "not a url"},
        {"policy_uri": 3},
        {"contacts": "ops@example.com"},
        {"scope": 'bad"scope'},
        {"scope": ["profile"]},
        {"jwks": {"no": "keys"}},
        {"jwks": []},
    ],
)
async def test_invalid_metadata_is_refused_with_invalid_client_metadata(env: Env, meta: dict[str, Any]) -> None:
    """RFC7591-3.2.2-INVALID-METADATA."""
    status, answer = await _post(env, {"redirect_uris": [REDIRECT], **meta})
    assert status == 400
    assert answer["error"] == "invalid_client_metadata"
    assert await dump_store(env.storage) == {}


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"a string"', b"null", b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_invalid_client_metadata(env: Env, body: bytes) -> None:
    response = await env.http.post(REGISTER, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
async def test_registration_requires_a_json_content_type(env: Env, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await env.http.post(REGISTER, content=b'{"redirect_uris": ["http://127.0.0.1:9/cb"]}', headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


async def test_json_with_a_charset_parameter_is_accepted(env: Env) -> None:
    response = await env.http.post(
        REGISTER,
        content=b'{"redirect_uris": ["http://127.0.0.1:9/cb"]}',
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 201


async def test_registration_refuses_other_methods_with_405(env: Env) -> None:
    response = await env.http.get(REGISTER)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, OPTIONS"
    assert response.json()["error"] == "invalid_request"


async def test_a_body_over_one_mebibyte_is_refused_with_413(env: Env) -> None:
    padding = "x" * (1 << 20)
    response = await env.http.post(REGISTER, json={"redirect_uris": [REDIRECT], "client_name": padding})
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


async def test_a_registered_client_can_use_the_authorization_endpoint(env: Env) -> None:
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert (await env.api(tokens["access_token"])).status_code == 200


async def test_each_registration_creates_a_distinct_client(env: Env) -> None:
    first = await env.register()
    second = await env.register()
    assert first["client_id"] != second["client_id"]
    listed = await env.provider.helpers.list_clients()
    assert {c.client_id for c in listed.items} == {first["client_id"], second["client_id"]}

"""Which resources a token is bound to (issue 15, item 5; RFC 8707).

A token is bound to the resources its requests named; a grant that never named one yields tokens
bound to none, good on every API route of the provider, as in the seed (whose own README shows a
provider guarding ``/api/`` on any host and ``https://api.example.com/``). The ``resource``
parameter may repeat, at the authorization endpoint and the token endpoint (RFC 8707 section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from oauth_reference import AuthRequest
from oauth_reference.machinery import records
from oauth_reference.machinery.records import AccessToken
from oauth_reference.machinery.records import Grant
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import tagged_app

pytestmark = pytest.mark.anyio

API = "https://api.example.com/"
FORM = "application/x-www-form-urlencoded"
SITE_API = f"{ORIGIN}/api/"


def seed_routes(make_env: EnvFactory, **options: Any) -> Env:
    """The seed README's two routes: a path on any host, and a full URL on its own host."""
    return make_env({"api_route": ["/api/", API], "api_handler": tagged_app("api"), **options}, bare=True)


async def code_and_verifier(env: Env, client_id: str, resources: list[str]) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    params: tuple[tuple[str, str], ...] = (
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        *(("resource", r) for r in resources),
    )
    response = await env.http.get("/authorize", params=params)
    assert response.status_code == 302, response.text
    query = query_of(response.headers["location"])
    assert "code" in query, query
    return query["code"][0], verifier


async def exchange(env: Env, client_id: str, code: str, verifier: str, resources: Sequence[str] = ()) -> httpx.Response:
    form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("client_id", client_id),
        *(("resource", r) for r in resources),
    ]
    body = urlencode(form)  # the resource parameter repeats
    return await env.http.post("/oauth/token", content=body, headers={"Content-Type": FORM})


async def tokens(env: Env, authorized: list[str], requested: Sequence[str] = ()) -> dict[str, Any]:
    client_id = (await env.register())["client_id"]
    code, verifier = await code_and_verifier(env, client_id, authorized)
    response = await exchange(env, client_id, code, verifier, requested)
    assert response.status_code == 200, response.text
    return {"client_id": client_id, **response.json()}


async def status_at(env: Env, url: str, token: str) -> int:
    return (await env.http.get(url, headers={"Authorization": f"Bearer {token}"})).status_code


async def test_a_token_without_a_resource_works_on_every_route_of_the_seeds_example(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    issued = await tokens(env, [])
    assert "resource" not in issued
    assert await status_at(env, f"{SITE_API}whoami", issued["access_token"]) == 200
    assert await status_at(env, f"{API}whoami", issued["access_token"]) == 200


async def test_a_token_for_one_resource_works_there_only(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    issued = await tokens(env, [API])
    assert issued["resource"] == API
    assert await status_at(env, f"{API}whoami", issued["access_token"]) == 200
    assert await status_at(env, f"{SITE_API}whoami", issued["access_token"]) == 401


async def test_several_resources_bind_the_token_to_each(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    issued = await tokens(env, [f"{ORIGIN}/api", API])
    assert issued["resource"] == [f"{ORIGIN}/api", API]
    assert await status_at(env, f"{SITE_API}whoami", issued["access_token"]) == 200
    assert await status_at(env, f"{API}whoami", issued["access_token"]) == 200
    assert await status_at(env, f"{ORIGIN}/other", issued["access_token"]) != 200


async def test_the_auth_request_lists_every_resource_named(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    client_id = (await env.register())["client_id"]
    url = httpx.URL(f"{ORIGIN}/authorize").copy_with(
        params=[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", pkce_pair()[1]),
            ("code_challenge_method", "S256"),
            ("resource", API),
            ("resource", f"{ORIGIN}/api"),
            ("resource", API),
        ]
    )
    request = await env.provider.helpers.parse_auth_request(str(url))
    assert request.resource == [API, f"{ORIGIN}/api"]  # canonical, each once
    plain = await env.provider.helpers.parse_auth_request(str(url.copy_remove_param("resource")))
    assert plain.resource == []


async def test_a_token_request_may_narrow_to_granted_resources_and_no_others(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    narrowed = await tokens(env, [f"{ORIGIN}/api", API], [API])
    assert narrowed["resource"] == API
    assert await status_at(env, f"{SITE_API}whoami", narrowed["access_token"]) == 401
    client_id = (await env.register())["client_id"]
    code, verifier = await code_and_verifier(env, client_id, [API])
    refused = await exchange(env, client_id, code, verifier, [f"{ORIGIN}/api"])
    assert refused.json()["error"] == "invalid_target"


async def test_a_token_request_binds_a_grant_that_named_no_resource(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    issued = await tokens(env, [], [API])
    assert issued["resource"] == API
    assert await status_at(env, f"{SITE_API}whoami", issued["access_token"]) == 401
    # The grant itself stays unbound: a refresh without resource gets a token for every route.
    refreshed = await env.refresh(issued["client_id"], issued["refresh_token"])
    assert "resource" not in refreshed.json()
    assert await status_at(env, f"{SITE_API}whoami", refreshed.json()["access_token"]) == 200


async def test_a_refresh_keeps_the_grants_resources_and_may_narrow_them(make_env: EnvFactory) -> None:
    env = seed_routes(make_env)
    issued = await tokens(env, [f"{ORIGIN}/api", API])
    again = await env.refresh(issued["client_id"], issued["refresh_token"])
    assert again.json()["resource"] == [f"{ORIGIN}/api", API]
    narrowed = await env.refresh(issued["client_id"], again.json()["refresh_token"], resource=API)
    assert narrowed.json()["resource"] == API


@pytest.mark.parametrize("resource", ["https://elsewhere.example/api", f"{ORIGIN}/api#f", "/relative"])
async def test_an_unserved_or_malformed_resource_is_invalid_target(make_env: EnvFactory, resource: str) -> None:
    env = seed_routes(make_env)
    client_id = (await env.register())["client_id"]
    challenge = pkce_pair()[1]
    response = await env.authorize(
        client_id, code_challenge=challenge, code_challenge_method="S256", resource=resource, state="s"
    )
    assert query_of(response.headers["location"])["error"] == ["invalid_target"]


async def test_origin_only_matching_lets_a_token_request_name_another_path_of_a_granted_origin(
    make_env: EnvFactory,
) -> None:
    strict = seed_routes(make_env)
    client_id = (await strict.register())["client_id"]
    code, verifier = await code_and_verifier(strict, client_id, [f"{ORIGIN}/api"])
    assert (await exchange(strict, client_id, code, verifier, [f"{ORIGIN}/other"])).json()["error"] == "invalid_target"

    lenient = seed_routes(make_env, resource_match_origin_only=True)
    client_id = (await lenient.register())["client_id"]
    code, verifier = await code_and_verifier(lenient, client_id, [f"{ORIGIN}/api"])
    response = await exchange(lenient, client_id, code, verifier, [f"{ORIGIN}/other"])
    assert response.status_code == 200, response.text
    assert response.json()["resource"] == f"{ORIGIN}/other"
    other_origin = await exchange(lenient, client_id, code, verifier, [API])
    assert other_origin.status_code == 400  # another origin is never granted (the code is spent, too)


def test_records_written_with_a_single_resource_still_load() -> None:
    grant = records.load(
        Grant,
        b'{"id":"g","client_id":"c","user_id":"u","scope":[],"metadata":null,"encrypted_props":"",'
        b'"created_at":0,"expires_at":null,"resource":"https://api.example.com/"}',
    )
    assert grant.resource == ["https://api.example.com/"]
    token = records.load(
        AccessToken,
        b'{"id":"t","grant_id":"g","user_id":"u","client_id":"c","created_at":0,"expires_at":1.0,'
        b'"audience":"https://api.example.com/","scope":[],"wrapped_key":"","encrypted_props":""}',
    )
    assert token.audience == ["https://api.example.com/"]
    # One resource as a bare string (the ignore): taken as a list of one, as in the records above.
    assert AuthRequest("code", "c", REDIRECT, [], "", resource="https://api.example.com/").resource == [API]  # type: ignore[arg-type]

"""RFC 8414 authorization server metadata and RFC 9728 protected resource metadata."""

from __future__ import annotations

import httpx
import pytest

from reference.tests.conftest import ORIGIN
from reference.tests.conftest import TOKEN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory

pytestmark = pytest.mark.anyio

WELL_KNOWN = "/.well-known/oauth-authorization-server"


async def test_metadata_with_the_seeds_defaults_lists_exactly_what_works(make_env: EnvFactory) -> None:
    """RFC8414-2-FIELDS: every list says what the provider accepts, nothing more."""
    env = make_env(bare=True)
    assert await env.metadata() == {
        "issuer": ORIGIN,
        "authorization_endpoint": f"{ORIGIN}/authorize",
        "token_endpoint": f"{ORIGIN}{TOKEN}",
        "registration_endpoint": f"{ORIGIN}/oauth/register",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint": f"{ORIGIN}{TOKEN}",
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "authorization_response_iss_parameter_supported": True,
        "protected_resources": [f"{ORIGIN}/"],
    }


async def test_the_served_demo_configuration_advertises_scopes_and_s256_only(env: Env) -> None:
    meta = await env.metadata()
    assert meta["scopes_supported"] == ["profile", "email", "documents.read", "documents.write"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["protected_resources"] == [f"{ORIGIN}/api"]


@pytest.mark.parametrize(
    "base",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://as.example.com",
        "https://as.example.com",
        "https://as.example.com:8443",
    ],
)
async def test_the_issuer_is_byte_identical_to_the_origin_the_client_used(make_env: EnvFactory, base: str) -> None:
    """RFC8414-3.3-ISSUER-EXACT: the issuer equals the URL the metadata was fetched from, minus the
    well-known path, on every host the provider serves (each named in allowed_hosts)."""
    hosts = ["127.0.0.1:8000", "localhost:8000", "as.example.com", "as.example.com:8443"]
    env = make_env({"allowed_hosts": hosts})
    response = await env.http.get(f"{base}{WELL_KNOWN}")
    assert response.status_code == 200
    meta = response.json()
    assert meta["issuer"] == base
    assert meta["token_endpoint"] == f"{base}{TOKEN}"


async def test_metadata_is_json_and_answers_head_without_a_body(env: Env) -> None:
    get = await env.http.get(WELL_KNOWN)
    assert get.headers["content-type"] == "application/json"
    head = await env.http.head(WELL_KNOWN)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_metadata_refuses_other_methods_with_405(env: Env, method: str) -> None:
    response = await env.http.request(method, WELL_KNOWN)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


async def test_metadata_is_open_to_browsers_with_cors(env: Env) -> None:
    response = await env.http.get(WELL_KNOWN, headers={"Origin": "https://spa.example"})
    assert response.headers["access-control-allow-origin"] == "https://spa.example"
    assert response.headers["vary"] == "Origin"
    preflight = await env.http.options(WELL_KNOWN, headers={"Origin": "https://spa.example"})
    assert preflight.status_code == 204
    assert "GET" in preflight.headers["access-control-allow-methods"]


async def test_metadata_without_an_origin_header_has_no_cors_headers(env: Env) -> None:
    response = await env.http.get(WELL_KNOWN)
    assert "access-control-allow-origin" not in response.headers


async def test_a_path_suffixed_metadata_url_is_left_to_the_application(env: Env) -> None:
    """The provider's issuer has no path, so only the root well-known URL is its metadata."""
    response = await env.http.get(f"{WELL_KNOWN}/tenant")
    assert response.status_code == 404


async def test_two_host_headers_are_refused(env: Env) -> None:
    transport = env.http._transport
    assert isinstance(transport, httpx.ASGITransport)
    request = httpx.Request("GET", f"{ORIGIN}{WELL_KNOWN}", headers=[("Host", "a.example"), ("Host", "b.example")])
    response = await transport.handle_async_request(request)
    await response.aread()
    assert response.status_code == 400


async def test_a_malformed_host_header_is_refused_not_echoed_as_issuer(env: Env) -> None:
    response = await env.http.get(WELL_KNOWN, headers={"Host": "evil.example/path?"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# --- RFC 9728 -------------------------------------------------------------------------------


async def test_protected_resource_metadata_is_served_at_the_resources_well_known_url(env: Env) -> None:
    """RFC9728-3.1-URL: the well-known segment goes between the host and the resource's path."""
    response = await env.http.get("/.well-known/oauth-protected-resource/api")
    assert response.status_code == 200
    assert response.json() == {
        "resource": f"{ORIGIN}/api",
        "authorization_servers": [ORIGIN],
        "scopes_supported": ["profile", "email", "documents.read", "documents.write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "oauth-reference demo API",
    }


async def test_other_protected_resource_metadata_urls_are_left_to_the_application(env: Env) -> None:
    assert (await env.http.get("/.well-known/oauth-protected-resource")).status_code == 404
    assert (await env.http.get("/.well-known/oauth-protected-resource/other")).status_code == 404


async def test_protected_resource_metadata_refuses_other_methods(env: Env) -> None:
    response = await env.http.post("/.well-known/oauth-protected-resource/api")
    assert response.status_code == 405


async def test_the_resource_follows_the_request_origin_like_the_issuer(make_env: EnvFactory) -> None:
    env = make_env({"allowed_hosts": ["https://other.example"]})
    response = await env.http.get("https://other.example/.well-known/oauth-protected-resource/api")
    assert response.json()["resource"] == "https://other.example/api"
    assert response.json()["authorization_servers"] == ["https://other.example"]

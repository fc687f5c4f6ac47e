"""Every option of ``OAuthProvider``: the seed's default, its meaning, and configuration errors.

The seed is the 0.8 README of ``@cloudflare/workers-oauth-provider``; options are its names in
snake_case. Options with their own module of tests (TTLs in ``test_ttl.py``,
``refresh_token_grace`` in ``test_refresh.py``) are only checked for their default here.
"""

from __future__ import annotations

from typing import Any

import pytest

from oauth_reference import ConfigurationError
from oauth_reference import OAuthProvider
from oauth_reference import ResourceMetadata
from oauth_reference.options import DAY
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import TOKEN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import bare_provider
from reference.tests.conftest import fragment_of
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of
from reference.tests.conftest import tagged_app

pytestmark = pytest.mark.anyio


# --- defaults -------------------------------------------------------------------------------


def test_every_optional_option_has_the_seeds_default() -> None:
    options = bare_provider().options
    assert options.allow_implicit_flow is False
    assert options.allow_plain_pkce is True
    assert options.disallow_public_client_registration is False
    assert options.refresh_token_ttl == 30 * DAY == 2_592_000
    assert options.access_token_ttl == 3600
    assert options.client_registration_ttl == 90 * DAY == 7_776_000
    assert options.scopes_supported is None
    assert options.resource_metadata == ResourceMetadata()
    assert options.refresh_token_grace is False
    assert options.issuer is None
    assert options.allow_token_exchange_grant is False
    assert options.client_id_metadata_document_enabled is False
    assert options.fetch_timeout == 5.0


@pytest.mark.parametrize("value", [0, -1, 31, True, "5"])
def test_a_fetch_timeout_outside_0_to_30_seconds_is_a_configuration_error(value: object) -> None:
    with pytest.raises(ConfigurationError, match="fetch_timeout must be a number of seconds above 0 and at most 30"):
        bare_provider(fetch_timeout=value)


def test_the_fetch_timeout_is_every_server_side_fetchs_deadline() -> None:
    assert bare_provider().core.fetch_policy().timeout == 5.0
    assert bare_provider(fetch_timeout=1.5).core.fetch_policy().timeout == 1.5


def test_registration_is_off_unless_its_endpoint_is_configured() -> None:
    provider = bare_provider(client_registration_endpoint=None)
    assert provider.options.client_registration_endpoint is None


async def test_without_a_registration_endpoint_metadata_omits_it_and_the_path_is_the_apps(
    make_env: EnvFactory,
) -> None:
    env = make_env({"client_registration_endpoint": None}, bare=True)
    assert "registration_endpoint" not in await env.metadata()
    response = await env.http.post("/oauth/register", json={"redirect_uris": [REDIRECT]})
    assert response.status_code in (404, 405)  # the default handler's answer, not a registration
    assert (await env.provider.helpers.list_clients()).items == []


# --- configuration errors -------------------------------------------------------------------


def test_both_api_styles_together_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="either api_route with api_handler, or api_handlers"):
        bare_provider(api_handlers={"/v2/": tagged_app("v2")})


def test_api_route_without_api_handler_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="api_route and api_handler must be given together"):
        bare_provider(api_handler=None)


def test_no_api_routes_at_all_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="at least one route"):
        bare_provider(api_route=[])
    with pytest.raises(ConfigurationError, match="at least one route"):
        bare_provider(api_route=None, api_handler=None, api_handlers={})


def test_an_unknown_option_is_refused_with_a_suggestion() -> None:
    with pytest.raises(
        ConfigurationError, match=r"unknown option 'allow_plain_pcke'; did you mean 'allow_plain_pkce'\?"
    ):
        bare_provider(allow_plain_pcke=False)


def test_an_unknown_option_without_a_near_name_is_refused_without_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match=r"^unknown option 'zzz'$"):
        bare_provider(zzz=1)


def test_the_seeds_camel_case_names_are_unknown_options_with_the_snake_case_suggested() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'access_token_ttl'"):
        bare_provider(accessTokenTTL=60)


def test_a_missing_required_option_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="token_endpoint"):
        OAuthProvider(
            api_route="/api/", api_handler=tagged_app("a"), default_handler=tagged_app("d"), authorize_endpoint="/a"
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"access_token_ttl": 0}, "access_token_ttl must be a positive number"),
        ({"access_token_ttl": -1}, "access_token_ttl must be a positive number"),
        ({"access_token_ttl": None}, "access_token_ttl must be an integer"),
        ({"access_token_ttl": True}, "access_token_ttl must be an integer"),
        ({"access_token_ttl": 1.5}, "access_token_ttl must be an integer"),
        ({"refresh_token_ttl": -1}, "refresh_token_ttl must be 0 or a positive number"),
        ({"refresh_token_ttl": "30d"}, "refresh_token_ttl must be an integer"),
        ({"client_registration_ttl": 0}, "client_registration_ttl must be a positive number"),
        ({"token_endpoint": "oauth/token"}, "token_endpoint must be a path starting with /"),
        ({"authorize_endpoint": "ftp://x/authorize"}, "authorize_endpoint must be a path"),
        ({"client_registration_endpoint": "register"}, "client_registration_endpoint must be a path"),
        ({"api_route": "api/"}, "every API route must be a path"),
        ({"scopes_supported": "profile email"}, "scopes_supported must be a non-empty list"),
        ({"scopes_supported": []}, "scopes_supported must be a non-empty list"),
        ({"scopes_supported": ["a b"]}, "malformed scope tokens"),
        ({"scopes_supported": ['quote"d']}, "malformed scope tokens"),
        ({"scopes_supported": ["a", "a"]}, "must not repeat a scope"),
        ({"issuer": "https://as.example.com/?x=1"}, "issuer must be an absolute http"),
        ({"issuer": "/relative"}, "issuer must be an absolute http"),
        ({"issuer": "https://as.example.com/tenant"}, "issuer must be an origin"),
        ({"allow_implicit_flow": "yes"}, "allow_implicit_flow must be true or false"),
        ({"allow_plain_pkce": 1}, "allow_plain_pkce must be true or false"),
        ({"disallow_public_client_registration": None}, "must be true or false"),
        ({"refresh_token_grace": "no"}, "refresh_token_grace must be true or false"),
        ({"allow_token_exchange_grant": "yes"}, "allow_token_exchange_grant must be true or false"),
        ({"client_id_metadata_document_enabled": 1}, "client_id_metadata_document_enabled must be true or false"),
        ({"enterprise_managed_authorization": {"trusted_issuers": [{"jwks_uri": "https://x"}]}}, "needs an issuer"),
        ({"enterprise_managed_authorization": {"surprise": 1}}, "enterprise_managed_authorization"),
        ({"resource_metadata": {"resource": "/api", "color": "blue"}}, "unknown fields: color"),
        ({"resource_metadata": {"bearer_methods_supported": ["query"]}}, "Authorization header only"),
        ({"resource_metadata": ["not", "a", "mapping"]}, "resource_metadata must be a mapping"),
    ],
)
def test_invalid_option_values_are_configuration_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        bare_provider(**options)


def test_configuration_errors_are_value_errors() -> None:
    assert issubclass(ConfigurationError, ValueError)


# --- api_route, api_handler, api_handlers ---------------------------------------------------


async def test_a_single_api_route_guards_its_prefix_and_leaves_other_paths_to_the_default_handler(
    make_env: EnvFactory,
) -> None:
    env = make_env({"api_handler": tagged_app("api"), "default_handler": tagged_app("default")}, bare=True)
    guarded = await env.http.get("/api/anything")
    assert guarded.status_code == 401
    assert guarded.headers["www-authenticate"].startswith("Bearer ")
    other = await env.http.get("/apiary")
    assert other.status_code == 200
    assert other.json()["tag"] == "default"


async def test_many_api_routes_are_all_guarded(make_env: EnvFactory) -> None:
    env = make_env({"api_route": ["/api/", "/v2/"]}, bare=True)
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    for path in ("/api/x", "/v2/x"):
        assert (await env.http.get(path)).status_code == 401
    # The demo's API app answers /api/whoami; reaching it proves the token passed the check.
    assert (await env.api(tokens["access_token"])).status_code == 200


async def test_a_path_route_matches_on_any_host(make_env: EnvFactory) -> None:
    hosts = ["127.0.0.1:8000", "other.example", "third.example:8443"]
    env = make_env(
        {"api_handler": tagged_app("api"), "default_handler": tagged_app("default"), "allowed_hosts": hosts}, bare=True
    )
    for host in ("http://127.0.0.1:8000", "http://other.example", "https://third.example:8443"):
        response = await env.http.get(f"{host}/api/x")
        assert response.status_code == 401, host
        assert "Bearer" in response.headers["www-authenticate"]


async def test_a_full_url_route_matches_only_its_host(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "api_route": ["/api/", "http://api.example.com/v1/"],
            "api_handler": tagged_app("api"),
            "default_handler": tagged_app("default"),
            "allowed_hosts": ["127.0.0.1:8000", "elsewhere.example"],
        },
        bare=True,
    )
    assert (await env.http.get("http://api.example.com/v1/x")).status_code == 401
    assert (await env.http.get("http://API.EXAMPLE.COM/v1/x")).status_code == 401  # hosts compare case-insensitively
    for url in ("http://127.0.0.1:8000/v1/x", "http://elsewhere.example/v1/x", "http://api.example.com/v2/x"):
        response = await env.http.get(url)
        assert response.status_code == 200, url
        assert response.json()["tag"] == "default"


async def test_a_full_url_route_passes_a_token_for_that_resource_to_its_handler(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "api_route": "http://api.example.com/",
            "api_handler": tagged_app("api"),
            "resource_metadata": {"resource": "http://api.example.com/"},
        },
        bare=True,
    )
    client = await env.register()
    tokens = await env.tokens(client["client_id"], resource="http://api.example.com/")
    assert tokens["resource"] == "http://api.example.com/"
    response = await env.http.get(
        "http://api.example.com/v1/x", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    assert response.json()["tag"] == "api"
    assert response.json()["oauth"]["user_id"] == "test-user"


async def test_a_root_path_route_matches_only_the_root_as_in_the_seed(make_env: EnvFactory) -> None:
    env = make_env({"api_route": "/", "api_handler": tagged_app("api"), "default_handler": tagged_app("d")}, bare=True)
    assert (await env.http.get("/")).status_code == 401
    response = await env.http.get("/authorize")
    assert response.status_code == 200
    assert response.json()["tag"] == "d"


async def test_api_handlers_send_each_route_to_its_own_handler_longest_prefix_first(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "api_route": None,
            "api_handler": None,
            "api_handlers": {
                "/api/": tagged_app("api"),
                "/api/admin/": tagged_app("admin"),
                "/docs/": tagged_app("docs"),
            },
        },
        bare=True,
    )
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    seen = {}
    for path in ("/api/x", "/api/admin/x", "/docs/x"):
        response = await env.api(tokens["access_token"], path)
        assert response.status_code == 200, path
        seen[path] = response.json()["tag"]
        assert response.json()["oauth"]["client_id"] == client["client_id"]
    assert seen == {"/api/x": "api", "/api/admin/x": "admin", "/docs/x": "docs"}
    for path in seen:
        assert (await env.http.get(path)).status_code == 401


async def test_the_default_handler_gets_every_other_request_with_the_helpers(make_env: EnvFactory) -> None:
    env = make_env({"default_handler": tagged_app("default")}, bare=True)
    for path in ("/", "/authorize", "/some/page", "/.well-known/openid-configuration"):
        response = await env.http.get(path)
        assert response.status_code == 200, path
        body = response.json()
        assert body["tag"] == "default"
        assert body["helpers"] is True  # provider_helpers(scope) and request.state.oauth_provider
        assert body["oauth"] is None  # no token context outside API routes


# --- endpoints as paths or full URLs -------------------------------------------------------


async def test_endpoints_given_as_paths_are_advertised_on_the_requests_origin(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    meta = await env.metadata()
    assert meta["authorization_endpoint"] == f"{ORIGIN}/authorize"
    assert meta["token_endpoint"] == f"{ORIGIN}{TOKEN}"
    assert meta["registration_endpoint"] == f"{ORIGIN}/oauth/register"


async def test_endpoints_given_as_full_urls_are_advertised_verbatim(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "authorize_endpoint": "https://login.example.com/oauth2/authorize",
            "token_endpoint": f"{ORIGIN}/t",
            "client_registration_endpoint": f"{ORIGIN}/r",
        },
        bare=True,
    )
    meta = await env.metadata()
    assert meta["authorization_endpoint"] == "https://login.example.com/oauth2/authorize"
    assert meta["token_endpoint"] == f"{ORIGIN}/t"
    assert meta["revocation_endpoint"] == f"{ORIGIN}/t"
    assert meta["registration_endpoint"] == f"{ORIGIN}/r"


async def test_a_full_url_token_endpoint_is_served_on_its_host_only(make_env: EnvFactory) -> None:
    # The token endpoint's host is served (it is named), and other.example because allowed_hosts says so.
    options = {"token_endpoint": f"{ORIGIN}/t", "default_handler": tagged_app("default")}
    env = make_env({**options, "allowed_hosts": ["other.example"]}, bare=True)
    served = await env.http.post("/t", data={"grant_type": "authorization_code"})
    assert served.status_code == 401  # the token endpoint: client authentication is required
    assert served.json()["error"] == "invalid_client"
    elsewhere = await env.http.post("http://other.example/t", data={"grant_type": "authorization_code"})
    assert elsewhere.status_code == 200
    assert elsewhere.json()["tag"] == "default"


async def test_a_full_url_registration_endpoint_is_served_on_its_host_only(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "client_registration_endpoint": f"{ORIGIN}/r",
            "default_handler": tagged_app("default"),
            "allowed_hosts": ["other.example"],
        },
        bare=True,
    )
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
    assert (await env.http.post("/r", json=body)).status_code == 201
    elsewhere = await env.http.post("http://other.example/r", json=body)
    assert elsewhere.status_code == 200
    assert elsewhere.json()["tag"] == "default"


async def test_path_endpoints_are_served_on_any_host(make_env: EnvFactory) -> None:
    env = make_env({"allowed_hosts": ["other.example"]}, bare=True)
    response = await env.http.post(
        "http://other.example/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
    )
    assert response.status_code == 201


# --- scopes_supported -----------------------------------------------------------------------


async def test_scopes_supported_is_absent_from_metadata_unless_configured(make_env: EnvFactory) -> None:
    assert "scopes_supported" not in await make_env(bare=True).metadata()
    meta = await make_env({"scopes_supported": ["profile", "documents.read"]}, bare=True).metadata()
    assert meta["scopes_supported"] == ["profile", "documents.read"]


async def test_without_scopes_supported_any_well_formed_scope_is_accepted(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    client = await env.register()
    tokens = await env.tokens(client["client_id"], scope="anything goes")
    assert tokens["scope"] == "anything goes"


# --- allow_implicit_flow --------------------------------------------------------------------


async def test_implicit_flow_is_refused_by_default(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    meta = await env.metadata()
    assert meta["response_types_supported"] == ["code"]
    assert meta["response_modes_supported"] == ["query"]
    assert "implicit" not in meta["grant_types_supported"]
    client = await env.register()
    response = await env.authorize(client["client_id"], response_type="token", state="st")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    assert query_of(location)["error"] == ["unsupported_response_type"]
    assert query_of(location)["state"] == ["st"]
    reg = await env.http.post(
        "/oauth/register",
        json={"redirect_uris": [REDIRECT], "response_types": ["token"], "grant_types": ["implicit"]},
    )
    assert reg.status_code == 400
    assert reg.json()["error"] == "invalid_client_metadata"


async def test_implicit_flow_when_allowed_returns_the_token_in_the_fragment(make_env: EnvFactory) -> None:
    env = make_env({"allow_implicit_flow": True}, bare=True)
    meta = await env.metadata()
    assert meta["response_types_supported"] == ["code", "token"]
    assert meta["response_modes_supported"] == ["query", "fragment"]
    assert "implicit" in meta["grant_types_supported"]
    client = await env.register(response_types=["token"], grant_types=["implicit"])
    response = await env.authorize(client["client_id"], response_type="token", state="st", scope="profile")
    assert response.status_code == 302
    location = response.headers["location"]
    assert "?" not in location
    params = fragment_of(location)
    assert params["token_type"] == ["bearer"]
    assert params["expires_in"] == ["3600"]
    assert params["state"] == ["st"]
    assert params["iss"] == [ORIGIN]
    assert params["scope"] == ["profile"]
    api = await env.api(params["access_token"][0])
    assert api.status_code == 200
    assert api.json()["scope"] == ["profile"]


async def test_implicit_flow_needs_a_client_registered_for_the_token_response_type(make_env: EnvFactory) -> None:
    env = make_env({"allow_implicit_flow": True}, bare=True)
    client = await env.register()  # response_types defaults to ["code"]
    response = await env.authorize(client["client_id"], response_type="token", state="st")
    params = fragment_of(response.headers["location"])
    assert params["error"] == ["unauthorized_client"]
    assert "access_token" not in params


# --- allow_plain_pkce -----------------------------------------------------------------------


async def test_plain_pkce_is_allowed_and_advertised_by_default(make_env: EnvFactory) -> None:
    """RFC 7636 section 4.2: with plain, the challenge is the verifier itself."""
    env = make_env(bare=True)
    assert (await env.metadata())["code_challenge_methods_supported"] == ["S256", "plain"]
    client = await env.register()
    verifier, _ = pkce_pair()
    for method in ("plain", None):  # RFC 7636 section 4.3: an absent method means plain
        response = await env.authorize(client["client_id"], code_challenge=verifier, code_challenge_method=method)
        code = query_of(response.headers["location"])["code"][0]
        token = await env.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "client_id": client["client_id"],
            }
        )
        assert token.status_code == 200, token.text


async def test_disallowing_plain_pkce_accepts_and_advertises_only_s256(make_env: EnvFactory) -> None:
    env = make_env({"allow_plain_pkce": False}, bare=True)
    assert (await env.metadata())["code_challenge_methods_supported"] == ["S256"]
    client = await env.register()
    verifier, _ = pkce_pair()
    for method in ("plain", None):
        response = await env.authorize(
            client["client_id"], code_challenge=verifier, code_challenge_method=method, state="x"
        )
        params = query_of(response.headers["location"])
        assert params["error"] == ["invalid_request"], method
        assert "code" not in params
    tokens = await env.tokens(client["client_id"])
    assert tokens["token_type"] == "Bearer"


# --- disallow_public_client_registration ---------------------------------------------------


async def test_disallowing_public_registration_refuses_public_clients_only(make_env: EnvFactory) -> None:
    env = make_env({"disallow_public_client_registration": True}, bare=True)
    public = await env.http.post(
        "/oauth/register", json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
    )
    assert public.status_code == 400
    assert public.json()["error"] == "invalid_client_metadata"
    confidential = await env.http.post("/oauth/register", json={"redirect_uris": [REDIRECT]})
    assert confidential.status_code == 201
    assert "client_secret" in confidential.json()


async def test_create_client_may_make_public_clients_even_when_registration_may_not(make_env: EnvFactory) -> None:
    env = make_env({"disallow_public_client_registration": True}, bare=True)
    client = await env.provider.helpers.create_client(redirect_uris=[REDIRECT], token_endpoint_auth_method="none")
    assert client.is_public
    assert client.client_secret is None
    tokens = await env.tokens(client.client_id)
    assert "access_token" in tokens


# --- refresh_token_ttl and access_token_ttl ------------------------------------------------


async def test_by_default_a_refresh_token_is_issued_and_the_grant_advertised(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    assert "refresh_token" in (await env.metadata())["grant_types_supported"]
    client = await env.register()
    assert "refresh_token" in await env.tokens(client["client_id"])


async def test_a_refresh_token_ttl_of_zero_issues_no_refresh_token_and_removes_the_grant(make_env: EnvFactory) -> None:
    env = make_env({"refresh_token_ttl": 0}, bare=True)
    meta = await env.metadata()
    assert meta["grant_types_supported"] == ["authorization_code"]
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert "refresh_token" not in tokens
    assert (await env.api(tokens["access_token"])).status_code == 200
    response = await env.refresh(client["client_id"], tokens["access_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    reg = await env.http.post(
        "/oauth/register", json={"redirect_uris": [REDIRECT], "grant_types": ["authorization_code", "refresh_token"]}
    )
    assert reg.status_code == 400
    assert reg.json()["error"] == "invalid_client_metadata"


async def test_access_token_ttl_sets_expires_in(make_env: EnvFactory) -> None:
    env = make_env({"access_token_ttl": 120}, bare=True)
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert tokens["expires_in"] == 120
    refreshed = await env.refresh(client["client_id"], tokens["refresh_token"])
    assert refreshed.json()["expires_in"] == 120


# --- client_registration_ttl ---------------------------------------------------------------


async def test_a_registered_clients_secret_expires_with_its_registration(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    client = await env.register(token_endpoint_auth_method=None)
    assert client["client_secret_expires_at"] == client["client_id_issued_at"] + 90 * DAY
    short = make_env({"client_registration_ttl": 3600}, bare=True)
    client = await short.register(token_endpoint_auth_method=None)
    assert client["client_secret_expires_at"] == client["client_id_issued_at"] + 3600


async def test_a_registration_ttl_of_none_never_expires(make_env: EnvFactory) -> None:
    env = make_env({"client_registration_ttl": None}, bare=True)
    client = await env.register(token_endpoint_auth_method=None)
    assert client["client_secret_expires_at"] == 0  # RFC 7591 section 3.2.1: 0 means never
    stored = await env.provider.helpers.lookup_client(client["client_id"])
    assert stored is not None
    assert stored.registration_expires_at is None


async def test_create_client_is_not_subject_to_the_registration_ttl(env: Env) -> None:
    client = await env.provider.helpers.create_client(redirect_uris=[REDIRECT])
    assert client.registration_expires_at is None
    assert client.client_secret_expires_at == 0


# --- resource_metadata ----------------------------------------------------------------------


async def test_resource_metadata_defaults_to_the_issuers_origin(make_env: EnvFactory) -> None:
    env = make_env(bare=True)
    response = await env.http.get("/.well-known/oauth-protected-resource")
    assert response.status_code == 200
    assert response.json() == {
        "resource": f"{ORIGIN}/",
        "authorization_servers": [ORIGIN],
        "bearer_methods_supported": ["header"],
    }


async def test_resource_metadata_fields_are_served_and_used_in_the_challenge(make_env: EnvFactory) -> None:
    env = make_env(
        {
            "resource_metadata": {
                "resource": "/api",
                "authorization_servers": ["https://as.example.com"],
                "scopes_supported": ["read"],
                "resource_name": "Example API",
            }
        },
        bare=True,
    )
    response = await env.http.get("/.well-known/oauth-protected-resource/api")
    assert response.status_code == 200
    assert response.json() == {
        "resource": f"{ORIGIN}/api",
        "authorization_servers": ["https://as.example.com"],
        "scopes_supported": ["read"],
        "bearer_methods_supported": ["header"],
        "resource_name": "Example API",
    }
    challenge = (await env.http.get("/api/x")).headers["www-authenticate"]
    assert f'resource_metadata="{ORIGIN}/.well-known/oauth-protected-resource/api/x"' in challenge
    assert 'scope="read"' in challenge


async def test_resource_metadata_may_be_given_as_the_dataclass(make_env: EnvFactory) -> None:
    env = make_env({"resource_metadata": ResourceMetadata(resource="/api", resource_name="R")}, bare=True)
    response = await env.http.get("/.well-known/oauth-protected-resource/api")
    assert response.json()["resource_name"] == "R"


async def test_resource_metadata_scopes_fall_back_to_scopes_supported(make_env: EnvFactory) -> None:
    env = make_env({"scopes_supported": ["a", "b"]}, bare=True)
    response = await env.http.get("/.well-known/oauth-protected-resource")
    assert response.json()["scopes_supported"] == ["a", "b"]


# --- issuer ---------------------------------------------------------------------------------


async def test_a_fixed_issuer_replaces_the_request_origin_everywhere(make_env: EnvFactory) -> None:
    issuer = "https://as.example.com"
    # Requests still reach it on a host of its own (behind a proxy, say), named in allowed_hosts.
    env = make_env({"issuer": issuer, "allowed_hosts": ["127.0.0.1:8000"]}, bare=True)
    meta = await env.metadata()
    assert meta["issuer"] == issuer
    assert meta["token_endpoint"] == f"{issuer}{TOKEN}"
    client = await env.register()
    response = await env.authorize(client["client_id"], code_challenge=pkce_pair()[1], code_challenge_method="S256")
    assert query_of(response.headers["location"])["iss"] == [issuer]


async def test_refresh_token_grace_is_off_by_default_so_rotation_is_strict(make_env: EnvFactory) -> None:
    """OAUTH21-4.3.1-RT-ROTATE: the presented refresh token is invalid once used (details in test_refresh)."""
    env = make_env(bare=True)
    client = await env.register()
    tokens = await env.tokens(client["client_id"])
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 200
    assert (await env.refresh(client["client_id"], tokens["refresh_token"])).status_code == 400

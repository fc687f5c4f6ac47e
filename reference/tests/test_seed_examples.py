"""The seed's examples, transliterated to Python, behave as their prose says (issue 15).

Each test takes one code sample of the seed's README (``../shared/seed/``, and the published
0.8.3 README for the parts the seed text lost), writes it the Python way (snake_case options, ASGI
handlers, the helpers from ``provider_helpers``), runs it against the reference and checks what
the sample's comments and prose promise. Where the reference deliberately differs (it follows the
standards), the assertion says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import aclosing
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response

from oauth_conformance.support import jwts as assertions
from oauth_conformance.trust import keys as testkeys
from oauth_reference import EnterpriseManagedAuthorization
from oauth_reference import ErrorEvent
from oauth_reference import GrantType
from oauth_reference import IdJagClaims
from oauth_reference import MappedGrant
from oauth_reference import OAuthError
from oauth_reference import OAuthProvider
from oauth_reference import TokenExchangeCallbackOptions
from oauth_reference import TrustedIssuer
from oauth_reference import TrustedIssuerQuery
from oauth_reference import api_context
from oauth_reference import provider_helpers
from oauth_reference.machinery.clock import OffsetClock
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

SITE = "https://example.com"
API_HOST = "https://api.example.com"


# ------------------------------------------------------------------ the seed's usage example
async def api_handler(scope: Any, receive: Any, send: Any) -> None:
    """The seed's ApiHandler: called only for API requests whose token checked out."""
    request = Request(scope, receive)
    if request.url.path in ("/api/whoami", "/whoami"):
        # The username is in the props the provider verified: no other authentication step.
        response: Response = PlainTextResponse(f"You are authenticated as: {api_context(scope).props['username']}")
    else:
        response = PlainTextResponse("Not found", status_code=404)
    await response(scope, receive, send)


async def default_handler(scope: Any, receive: Any, send: Any) -> None:
    """The seed's defaultHandler: the authorization UI, and everything else."""
    request = Request(scope, receive)
    if request.url.path == "/authorize":
        helpers = provider_helpers(scope)  # the seed's env.OAUTH_PROVIDER
        oauth_req_info = await helpers.parse_auth_request(request)
        client_info = await helpers.lookup_client(oauth_req_info.client_id)
        assert client_info is not None  # (a real application renders consent with it here)
        done = await helpers.complete_authorization(
            oauth_req_info,
            user_id="1234",
            metadata={"label": "foo"},
            scope=["document.read", "document.write"],
            props={"userId": 1234, "username": "Bob"},
        )
        response: Response = RedirectResponse(done.redirect_to, 302)
    else:
        response = PlainTextResponse("Not found", status_code=404)
    await response(scope, receive, send)


def seed_provider(**changes: Any) -> OAuthProvider:
    """The seed's ``new OAuthProvider({...})``, every option it lists, in snake_case."""
    options: dict[str, Any] = {
        "api_route": ["/api/", f"{API_HOST}/"],  # a path on any host; a full URL on its host only
        "api_handler": api_handler,
        "default_handler": default_handler,
        "authorize_endpoint": f"{SITE}/authorize",
        "token_endpoint": f"{SITE}/oauth/token",
        "client_registration_endpoint": f"{SITE}/oauth/register",
        "scopes_supported": ["document.read", "document.write", "profile"],
        "allow_implicit_flow": False,
        "allow_plain_pkce": True,
        "disallow_public_client_registration": False,
        "refresh_token_ttl": 2592000,
        "access_token_ttl": 3600,
        "client_registration_ttl": 7776000,
        "allow_token_exchange_grant": False,
        "enterprise_managed_authorization": None,
        "client_id_metadata_document_enabled": False,
        **changes,
    }
    return OAuthProvider(clock=OffsetClock(), **options)


def client_for(provider: OAuthProvider, base: str = SITE) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=provider), base_url=base)


async def register(http: httpx.AsyncClient, **meta: Any) -> dict[str, Any]:
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Seed", **meta}
    response = await http.post(f"{SITE}/oauth/register", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def sign_in(http: httpx.AsyncClient, client: dict[str, Any], **extra: str) -> dict[str, Any]:
    """Authorize (the handler approves at once) and exchange the code; the token response."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "scope": "profile",
        "state": "xyz",
    }
    location = (await http.get(f"{SITE}/authorize", params=query)).headers["location"]
    code = query_of(location)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": client["client_id"],
    }
    if "client_secret" in client:
        form["client_secret"] = client["client_secret"]
    response = await http.post(f"{SITE}/oauth/token", data={**form, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_usage_example_advertises_what_it_configures() -> None:
    async with client_for(seed_provider()) as http:
        meta = (await http.get("/.well-known/oauth-authorization-server")).json()
    # The issuer is the origin of the token endpoint, as in the seed.
    assert meta["issuer"] == SITE
    assert meta["authorization_endpoint"] == f"{SITE}/authorize"  # only advertised: the app serves it
    assert meta["token_endpoint"] == f"{SITE}/oauth/token"
    assert meta["registration_endpoint"] == f"{SITE}/oauth/register"
    assert meta["scopes_supported"] == ["document.read", "document.write", "profile"]
    assert meta["response_types_supported"] == ["code"]  # allow_implicit_flow=False
    assert set(meta["code_challenge_methods_supported"]) == {"S256", "plain"}  # allow_plain_pkce=True
    assert "urn:ietf:params:oauth:grant-type:token-exchange" not in meta["grant_types_supported"]
    assert "client_id_metadata_document_supported" not in meta  # the seed sends false; the reference omits it


async def test_the_usage_example_serves_the_whole_flow_on_both_api_routes() -> None:
    async with client_for(seed_provider()) as http:
        client = await register(http)
        tokens = await sign_in(http, client)
        assert tokens["scope"] == "document.read document.write"  # what the handler granted
        assert tokens["expires_in"] == 3600
        assert "refresh_token" in tokens
        for url in (f"{SITE}/api/whoami", f"{API_HOST}/whoami"):
            response = await http.get(url, headers=bearer(tokens["access_token"]))
            assert (response.status_code, response.text) == (200, "You are authenticated as: Bob"), url
        assert (await http.get(f"{SITE}/api/other", headers=bearer(tokens["access_token"]))).text == "Not found"
        assert (await http.get(f"{SITE}/api/whoami")).status_code == 401  # only tokens reach the handler
        assert (await http.get(f"{SITE}/elsewhere")).text == "Not found"  # the default handler


async def test_the_grant_is_listed_with_its_metadata_for_an_audit_ui() -> None:
    provider = seed_provider()
    async with client_for(provider) as http:
        client = await register(http)
        await sign_in(http, client)
    [grant] = (await provider.helpers.list_user_grants("1234")).items
    assert (grant.client_id, grant.metadata, grant.scope) == (
        client["client_id"],
        {"label": "foo"},
        ["document.read", "document.write"],
    )


async def test_re_authorizing_revokes_the_earlier_grant_by_default() -> None:
    async with client_for(seed_provider()) as http:
        client = await register(http)
        first = await sign_in(http, client)
        second = await sign_in(http, client)
        assert (await http.get(f"{SITE}/api/whoami", headers=bearer(first["access_token"]))).status_code == 401
        assert (await http.get(f"{SITE}/api/whoami", headers=bearer(second["access_token"]))).status_code == 200


async def test_revoke_existing_grants_false_keeps_concurrent_grants_and_the_batch_size_is_checked() -> None:
    provider = seed_provider()
    helpers = provider.helpers
    client = await helpers.create_client(redirect_uris=[REDIRECT], token_endpoint_auth_method="none")
    url = httpx.URL(f"{SITE}/authorize").copy_with(
        params={
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
        }
    )
    for _ in range(2):
        request = await helpers.parse_auth_request(str(url))
        await helpers.complete_authorization(request, user_id="1234", scope=[], props={}, revoke_existing_grants=False)
    assert len((await helpers.list_user_grants("1234")).items) == 2
    request = await helpers.parse_auth_request(str(url))
    await helpers.complete_authorization(
        request, user_id="1234", scope=[], props={}, revoke_existing_grants_batch_size=5000
    )
    assert len((await helpers.list_user_grants("1234")).items) == 1  # capped at 1000 per page, still complete
    with pytest.raises(ValueError, match="positive integer"):
        await helpers.complete_authorization(
            request, user_id="1234", scope=[], props={}, revoke_existing_grants_batch_size=0
        )


async def test_the_helpers_manage_clients_and_grants_and_delete_client_cascades() -> None:
    """ "Create, list, modify, and delete client_id registrations ... List all active authorization
    grants for a particular user. Revoke (delete) an authorization grant." deleteClient cascades."""
    provider = seed_provider()
    helpers = provider.helpers
    async with client_for(provider) as http:
        made = await helpers.create_client(
            redirect_uris=[REDIRECT], client_name="Made", token_endpoint_auth_method="none"
        )
        assert [c.client_id for c in (await helpers.list_clients()).items] == [made.client_id]
        updated = await helpers.update_client(made.client_id, client_name="Renamed")
        assert updated is not None and updated.client_name == "Renamed"
        client = {"client_id": made.client_id}
        tokens = await sign_in(http, client)
        [grant] = (await helpers.list_user_grants("1234")).items
        await helpers.revoke_grant(grant.id, "1234")
        assert (await http.get(f"{SITE}/api/whoami", headers=bearer(tokens["access_token"]))).status_code == 401
        again = await sign_in(http, client)
        await helpers.delete_client(made.client_id)
        assert await helpers.lookup_client(made.client_id) is None
        assert (await http.get(f"{SITE}/api/whoami", headers=bearer(again["access_token"]))).status_code == 401
        assert (await helpers.list_user_grants("1234")).items == []


# --------------------------------------------------------------- token exchange callback
UPSTREAM = {"status": 200}


async def exchange_upstream_token(code: str) -> dict[str, Any]:
    return {"access_token": f"upstream-access-for-{code}", "refresh_token": "upstream-refresh-1", "expires_in": 600}


async def refresh_upstream_token(refresh_token: str) -> dict[str, Any]:
    if UPSTREAM["status"] == 401:
        raise OAuthError("invalid_grant", description="upstream refresh token is invalid")
    if UPSTREAM["status"] == 429:
        raise OAuthError(
            "temporarily_unavailable",
            description="upstream rate limited",
            status_code=429,
            headers={"Retry-After": "60"},
        )
    return {"access_token": "upstream-access-2", "refresh_token": None, "expires_in": 120}


async def token_exchange_callback(options: TokenExchangeCallbackOptions) -> dict[str, Any] | None:
    """The seed's callback: keep upstream tokens in the props, match the upstream lifetime."""
    if options.grant_type == GrantType.AUTHORIZATION_CODE:
        upstream = await exchange_upstream_token(options.props["someCode"])
        return {
            "access_token_props": {**options.props, "upstreamAccessToken": upstream["access_token"]},
            "new_props": {**options.props, "upstreamRefreshToken": upstream["refresh_token"]},
        }
    if options.grant_type == GrantType.REFRESH_TOKEN:
        upstream = await refresh_upstream_token(options.props["upstreamRefreshToken"])
        return {
            "access_token_props": {**options.props, "upstreamAccessToken": upstream["access_token"]},
            "new_props": {
                **options.props,
                "upstreamRefreshToken": upstream["refresh_token"] or options.props["upstreamRefreshToken"],
            },
            "access_token_ttl": upstream["expires_in"],
        }
    return None


async def props_seen(provider: OAuthProvider, token: str) -> Any:
    summary = await provider.helpers.unwrap_token(token)
    assert summary is not None
    return summary.props


async def upstream_flow(provider: OAuthProvider) -> tuple[httpx.AsyncClient, dict[str, Any], dict[str, Any]]:
    http = client_for(provider)
    helpers = provider.helpers
    made = await helpers.create_client(redirect_uris=[REDIRECT], token_endpoint_auth_method="none")
    verifier, challenge = pkce_pair()
    url = httpx.URL(f"{SITE}/authorize").copy_with(
        params={
            "response_type": "code",
            "client_id": made.client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    request = await helpers.parse_auth_request(str(url))
    done = await helpers.complete_authorization(request, user_id="1234", scope=[], props={"someCode": "c0de"})
    code = query_of(done.redirect_to)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": made.client_id}
    tokens = (await http.post(f"{SITE}/oauth/token", data=form)).json()
    return http, {"client_id": made.client_id}, tokens


async def test_the_callback_example_keeps_upstream_tokens_in_the_props() -> None:
    UPSTREAM["status"] = 200
    provider = seed_provider(token_exchange_callback=token_exchange_callback)
    http, client, tokens = await upstream_flow(provider)
    async with aclosing(http):  # opened by upstream_flow
        # accessTokenProps for this token; newProps for the grant (what the next refresh sees)
        assert await props_seen(provider, tokens["access_token"]) == {
            "someCode": "c0de",
            "upstreamAccessToken": "upstream-access-for-c0de",
        }
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
        }
        refreshed = (await http.post(f"{SITE}/oauth/token", data=form)).json()
        assert refreshed["expires_in"] == 120  # the upstream token's lifetime
        assert await props_seen(provider, refreshed["access_token"]) == {
            "someCode": "c0de",
            "upstreamRefreshToken": "upstream-refresh-1",  # kept: upstream sent no new one
            "upstreamAccessToken": "upstream-access-2",
        }


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"new_props": {"v": 2}}, {"v": 2}),  # "only newProps to update both the grant and access token"
        ({"access_token_props": {"v": 3}}, {"v": 3}),  # "only accessTokenProps: just the current access token"
        (None, {"someCode": "c0de"}),  # "Return nothing to keep the original props unchanged"
    ],
)
async def test_what_the_callback_returns_decides_the_props(result: Any, expected: Any) -> None:
    provider = seed_provider(token_exchange_callback=lambda options: result)
    http, _, tokens = await upstream_flow(provider)
    async with aclosing(http):  # opened by upstream_flow
        assert await props_seen(provider, tokens["access_token"]) == expected


async def test_the_callback_may_set_the_refresh_token_lifetime_on_the_code_exchange() -> None:
    provider = seed_provider(token_exchange_callback=lambda options: {"refresh_token_ttl": 0})
    http, _, tokens = await upstream_flow(provider)
    async with aclosing(http):  # opened by upstream_flow
        assert "refresh_token" not in tokens


@pytest.mark.parametrize(
    ("status", "answer", "headers"),
    [
        (401, (400, "invalid_grant", "upstream refresh token is invalid"), {}),
        (429, (429, "temporarily_unavailable", "upstream rate limited"), {"retry-after": "60"}),
    ],
)
async def test_errors_thrown_from_the_callback_are_the_token_endpoints_answer(
    status: int, answer: tuple[int, str, str], headers: dict[str, str]
) -> None:
    provider = seed_provider(token_exchange_callback=token_exchange_callback)
    UPSTREAM["status"] = 200
    http, client, tokens = await upstream_flow(provider)
    UPSTREAM["status"] = status
    async with aclosing(http):  # opened by upstream_flow
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
        }
        response = await http.post(f"{SITE}/oauth/token", data=form)
    UPSTREAM["status"] = 200
    body = response.json()
    assert (response.status_code, body["error"], body["error_description"]) == answer
    for name, value in headers.items():
        assert response.headers[name] == value


async def test_plain_exceptions_from_the_callback_stay_500s() -> None:
    """ "Plain errors, plain objects with a code field, and app-local error classes continue to
    surface as 500s so unexpected failures stay visible.\""""

    class AppError(Exception):
        code = "invalid_grant"

    def callback(options: TokenExchangeCallbackOptions) -> None:
        if options.grant_type == GrantType.REFRESH_TOKEN:
            raise AppError

    provider = seed_provider(token_exchange_callback=callback)
    http, client, tokens = await upstream_flow(provider)
    async with aclosing(http):  # opened by upstream_flow
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client["client_id"],
        }
        response = await http.post(f"{SITE}/oauth/token", data=form)
    assert (response.status_code, response.json()["error"]) == (500, "server_error")


# ----------------------------------------------------------- enterprise-managed authorization
IDP = "https://idp.example.com"
MCP = "https://mcp.example.com"


def ema_provider(**ema: Any) -> OAuthProvider:
    async def trusted_issuers(query: TrustedIssuerQuery) -> TrustedIssuer | None:
        if query.iss == IDP:
            return TrustedIssuer(issuer=query.iss, jwks=testkeys.jwks(testkeys.IDP_RS256), algorithms=("RS256",))
        return None

    async def map_claims(data: IdJagClaims) -> MappedGrant:
        claims = data.claims
        return MappedGrant(
            # Opaque tokens use ':' as a separator: encode subjects that may contain it.
            user_id=f"enterprise-{quote(claims['sub'], safe='')}",
            scope=data.requested_scope,
            metadata={"enterpriseIssuer": claims["iss"], "enterpriseSubject": claims["sub"]},
            props={"enterprise": True, "subject": claims["sub"], "email": claims.get("email")},
        )

    return seed_provider(
        api_route="/mcp",
        resource_metadata={"resource": f"{MCP}/mcp"},
        enterprise_managed_authorization=EnterpriseManagedAuthorization(
            trusted_issuers=trusted_issuers, map_claims=map_claims, **ema
        ),
        token_endpoint="/oauth/token",
        authorize_endpoint="/authorize",
        client_registration_endpoint="/oauth/register",
    )


def id_jag(client_id: str, resource: str | None = None) -> str:
    claims = assertions.idjag_claims(issuer=IDP, audience=MCP, client_id=client_id, resource=resource)
    return assertions.sign(claims, key=testkeys.IDP_RS256, typ=assertions.IDJAG_TYP)


async def present(http: httpx.AsyncClient, client: dict[str, Any], assertion: str) -> httpx.Response:
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "assertion": assertion,
        "client_id": client["client_id"],
        **({"client_secret": client["client_secret"]} if "client_secret" in client else {}),
    }
    return await http.post("/oauth/token", data=form)


async def test_the_ema_example_trades_an_id_jag_for_a_token_pinned_to_the_configured_resource() -> None:
    async with client_for(ema_provider(), MCP) as http:
        client = (
            await http.post(
                "/oauth/register",
                json={"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_post"},
            )
        ).json()
        response = await present(http, client, id_jag(client["client_id"]))  # no resource claim
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["resource"] == f"{MCP}/mcp"  # the configured resource, since the claim was omitted
        assert "refresh_token" not in body  # the ID-JAG itself is the renewable assertion
        called = await http.get("/mcp", headers=bearer(body["access_token"]))
        assert called.status_code == 404  # reached the handler (which knows no /mcp page)
        summary = await http.get("/mcp")
        assert summary.status_code == 401


async def test_the_ema_grant_needs_client_authentication_unless_public_clients_are_allowed() -> None:
    public = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
    async with client_for(ema_provider(), MCP) as http:
        client = (await http.post("/oauth/register", json=public)).json()
        refused = await present(http, client, id_jag(client["client_id"]))
        assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    async with client_for(ema_provider(allow_public_clients=True), MCP) as http:
        client = (await http.post("/oauth/register", json=public)).json()
        assert (await present(http, client, id_jag(client["client_id"]))).status_code == 200


# ------------------------------------------------------------------ custom error responses
async def test_on_error_observes_each_error_and_may_replace_the_response() -> None:
    captured: list[tuple[str, str | None, int]] = []

    def on_error(event: ErrorEvent) -> Response | None:
        captured.append((event.code, event.description, event.status))  # Sentry.captureMessage(...)
        if event.code == "unsupported_grant_type":
            return PlainTextResponse("...", status_code=event.status, headers=dict(event.headers))
        return None  # the default response

    async with client_for(seed_provider(on_error=on_error)) as http:
        client = await register(http)
        odd = await http.post(f"{SITE}/oauth/token", data={"grant_type": "password", "client_id": client["client_id"]})
        assert (odd.status_code, odd.text) == (400, "...")
        bad = await http.post(
            f"{SITE}/oauth/token",
            data={"grant_type": "authorization_code", "code": "x:y:z", "client_id": client["client_id"]},
        )
        assert bad.json()["error"] == "invalid_grant"
    assert [c[0] for c in captured] == ["unsupported_grant_type", "invalid_grant"]


async def test_by_default_each_error_response_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    async with client_for(seed_provider()) as http:
        client = await register(http)
        with caplog.at_level(logging.WARNING, logger="oauth_reference"):
            await http.post(f"{SITE}/oauth/token", data={"grant_type": "password", "client_id": client["client_id"]})
    assert "OAuth error response: 400 unsupported_grant_type - " in caplog.text


# ------------------------------------------------------------------------- KV cleanup
async def scheduled(provider: OAuthProvider, log: list[str]) -> bool:
    """The seed's scheduled handler, as a job a scheduler calls."""
    result = await provider.purge_expired_data(batch_size=100)
    log.append(f"Checked {result.grants_checked} grants, purged {result.grants_purged}")
    return result.done


async def test_the_cleanup_example_sweeps_orphans_until_done() -> None:
    from oauth_reference.machinery import records
    from oauth_reference.machinery.storage import Delete

    provider = seed_provider()
    async with client_for(provider) as http:
        client = await register(http)
        await sign_in(http, client)
    await provider.storage.commit([Delete(records.client_key(client["client_id"]))])
    lines: list[str] = []
    assert await scheduled(provider, lines)
    assert lines == ["Checked 1 grants, purged 1"]
    assert (await provider.helpers.list_user_grants("1234")).items == []


# ---------------------------------------------------------- protected resource metadata
async def test_the_resource_metadata_example_is_served_as_configured() -> None:
    metadata = {
        "resource": "https://api.example.com",
        "authorization_servers": ["https://auth.example.com"],
        "scopes_supported": ["read", "write"],
        "bearer_methods_supported": ["header"],
        "resource_name": "My API",
    }
    async with client_for(seed_provider(resource_metadata=metadata), API_HOST) as http:
        served = (await http.get("/.well-known/oauth-protected-resource")).json()
    # The reference serves the identifier in its canonical form (an empty path is "/").
    assert served == {**metadata, "resource": "https://api.example.com/"}


async def test_the_resource_metadata_defaults_to_the_request_origin_and_the_token_endpoints_issuer() -> None:
    async with client_for(seed_provider()) as http:
        served = (await http.get("/.well-known/oauth-protected-resource")).json()
    assert served["resource"] == f"{SITE}/"
    assert served["authorization_servers"] == [SITE]


# ------------------------------------------------------------------------------------ CIMD
async def test_enabling_client_id_metadata_documents_is_advertised() -> None:
    async with client_for(seed_provider(client_id_metadata_document_enabled=True)) as http:
        meta = (await http.get("/.well-known/oauth-authorization-server")).json()
    assert meta["client_id_metadata_document_supported"] is True
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]


# ------------------------------------------------------------------ single-use refresh tokens
async def refresh(http: httpx.AsyncClient, client: dict[str, Any], token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client["client_id"]}
    return await http.post(f"{SITE}/oauth/token", data=form)


@pytest.mark.parametrize("grace", [False, True])
async def test_refresh_tokens_are_single_use_unless_the_seeds_grace_period_is_asked_for(grace: bool) -> None:
    """The seed keeps the previous refresh token valid until its successor is used; OAuth 2.1
    section 4.3.1 does not, and the reference follows it unless refresh_token_grace=True."""
    async with client_for(seed_provider(refresh_token_grace=grace)) as http:
        client = await register(http)
        first = (await sign_in(http, client))["refresh_token"]
        assert (await refresh(http, client, first)).status_code == 200
        retried = await refresh(http, client, first)  # the client lost the answer and retries
        assert retried.status_code == (200 if grace else 400)


# ------------------------------------------------------------------- end-to-end encryption
async def test_the_store_holds_no_token_secret_or_props_in_the_clear() -> None:
    from reference.tests.conftest import dump_store

    provider = seed_provider()
    async with client_for(provider) as http:
        client = await register(http, token_endpoint_auth_method="client_secret_post")
        tokens = await sign_in(http, client)
    stored = b"".join((await dump_store(provider.storage)).values())
    secrets_: Sequence[str] = (tokens["access_token"], tokens["refresh_token"], client["client_secret"], "Bob")
    assert not [s for s in secrets_ if s.encode() in stored]
    assert b'"label":"foo"' in stored  # metadata and user ids are not secret: they serve audits

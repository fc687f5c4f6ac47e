"""ID-JAG (enterprise-managed authorization): every claim check, replay refused exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from oauth_conformance.support import jwts as assertions
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.trust.host import FixtureHost
from oauth_reference.machinery.fetch import TEST_CA_ENV
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory

pytestmark = pytest.mark.anyio
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(scope="module")
def host() -> Iterator[FixtureHost]:
    with FixtureHost() as running:
        yield running


@pytest.fixture
def idp(make_env: EnvFactory, host: FixtureHost, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(TEST_CA_ENV, str(host.ca_file))
    ema = {"trusted_issuers": [{"issuer": host.idp_issuer, "jwks_uri": host.idp_jwks_uri}]}
    env: Env = make_env({"enterprise_managed_authorization": ema})
    env.provider.core.allow_loopback_fetch = True
    return env


async def confidential(env: Env) -> dict[str, Any]:
    return await env.register(token_endpoint_auth_method="client_secret_post")


def grant(client: dict[str, Any], assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": JWT_BEARER,
        "assertion": assertion,
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        **extra,
    }


def mint(host: FixtureHost, client: dict[str, Any], **overrides: Any) -> str:
    key = overrides.pop("key", testkeys.IDP_RS256)
    typ = overrides.pop("typ", assertions.IDJAG_TYP)
    alg = overrides.pop("alg", None)
    lifetime = overrides.pop("lifetime", 120)
    subject = overrides.pop("subject", "alice@conformance.test")
    claims = assertions.idjag_claims(
        issuer=host.idp_issuer,
        audience=ORIGIN,
        client_id=client["client_id"],
        resource=f"{ORIGIN}/api",
        lifetime=lifetime,
        subject=subject,
    )
    for name, value in overrides.items():
        if value is assertions.OMIT:
            claims.pop(name, None)
        else:
            claims[name] = value
    return assertions.sign(claims, key=key, typ=typ, alg=alg)


async def test_metadata_advertises_the_grant_and_the_id_jag_profile(idp: Env) -> None:
    doc = (await idp.http.get("/.well-known/oauth-authorization-server")).json()
    assert JWT_BEARER in doc["grant_types_supported"]
    assert doc["authorization_grant_profiles_supported"] == ["urn:ietf:params:oauth:grant-profile:id-jag"]


async def test_a_valid_id_jag_gets_an_access_token_and_no_refresh_token(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    response = await idp.token(grant(client, mint(host, client, scope="profile email")))
    body = response.json()
    assert response.status_code == 200, body
    assert "refresh_token" not in body
    assert body["scope"] == "profile email"
    whoami = (await idp.api(body["access_token"])).json()
    assert whoami["props"]["sub"] == "alice@conformance.test"


async def test_es256_assertions_verify_too(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    response = await idp.token(grant(client, mint(host, client, key=testkeys.IDP_ES256)))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "bad",
    [
        {"typ": "JWT"},
        {"typ": None},
        {"key": testkeys.UNTRUSTED_RS256},
        {"alg": "none"},
        {"aud": f"{ORIGIN}/"},
        {"aud": [ORIGIN, "https://other.example"]},
        {"aud": f"{ORIGIN}/oauth/token"},
        {"iss": "https://evil.example/idp"},
        {"sub": assertions.OMIT},
        {"jti": assertions.OMIT},
        {"iat": assertions.OMIT},
        {"exp": assertions.OMIT},
        {"client_id": assertions.OMIT},
        {"lifetime": -600},
        {"lifetime": 86400},
        {"nbf": 4102444800},
        {"iat": 4102444800},
        {"cnf": {"jkt": "abc"}},
        {"authorization_details": [{"type": "x"}]},
    ],
)
async def test_bad_assertions_are_invalid_grant(idp: Env, host: FixtureHost, bad: dict[str, Any]) -> None:
    client = await confidential(idp)
    response = await idp.token(grant(client, mint(host, client, **bad)))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_key_bound_id_jag_needs_a_proof_made_with_that_key(idp: Env, host: FixtureHost) -> None:
    """IDJAG-8.6.1.2.1-CNF-MISMATCH, IDJAG-8.6.1.2.2-CNF-NO-PROOF: cnf.jkt binds the grant to a DPoP key."""
    from joserfc.jwk import ECKey

    from reference.tests.test_dpop import proof

    client = await confidential(idp)
    key, other = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    cnf = {"jkt": key.thumbprint()}
    refused = await idp.token(grant(client, mint(host, client, cnf=cnf)), headers={"DPoP": proof(other)})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.text
    response = await idp.token(grant(client, mint(host, client, cnf=cnf)), headers={"DPoP": proof(key)})
    assert response.status_code == 200, response.text
    # Section 9.8.1.2.1 (-04) lets the server bind the token or not; without dpop_enabled it does not.
    assert response.json()["token_type"] == "Bearer"


async def test_a_tampered_assertion_is_refused(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    forged = assertions.tamper(mint(host, client), sub="mallory@conformance.test")
    assert (await idp.token(grant(client, forged))).json()["error"] == "invalid_grant"


async def test_the_client_id_claim_must_name_the_authenticated_client(idp: Env, host: FixtureHost) -> None:
    client, other = await confidential(idp), await confidential(idp)
    response = await idp.token(grant(other, mint(host, client)))
    assert response.json()["error"] == "invalid_grant"


async def test_public_clients_are_refused_by_default(idp: Env, host: FixtureHost) -> None:
    client = await idp.register()
    response = await idp.token(
        {"grant_type": JWT_BEARER, "assertion": mint(host, client), "client_id": client["client_id"]}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_a_replayed_jti_wins_exactly_once_even_concurrently(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    assertion = mint(host, client)
    responses = await asyncio.gather(*(idp.token(grant(client, assertion)) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 7


async def test_resource_outside_the_server_is_invalid_target(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    response = await idp.token(grant(client, mint(host, client, resource="https://elsewhere.example/api")))
    assert response.json()["error"] == "invalid_target"
    response = await idp.token(grant(client, mint(host, client), resource="https://elsewhere.example/api"))
    assert response.json()["error"] == "invalid_target"


async def test_scope_cannot_exceed_the_assertions_scope(idp: Env, host: FixtureHost) -> None:
    client = await confidential(idp)
    response = await idp.token(grant(client, mint(host, client, scope="profile"), scope="profile email"))
    assert response.json()["error"] == "invalid_scope"


async def test_inline_jwks_and_a_custom_mapping(make_env: EnvFactory, host: FixtureHost) -> None:
    from oauth_reference import MappedGrant

    def mapping(data: Any) -> MappedGrant | None:
        if data.claims["sub"].startswith("blocked"):
            return None
        return MappedGrant(user_id="enterprise-user", scope=["profile"], props={"tenant": "acme"})

    ema = {
        "trusted_issuers": [{"issuer": host.idp_issuer, "jwks": testkeys.jwks(testkeys.IDP_RS256)}],
        "map_claims": mapping,
    }
    env: Env = make_env({"enterprise_managed_authorization": ema})
    client = await confidential(env)
    ok = await env.token(grant(client, mint(host, client)))
    assert (await env.api(ok.json()["access_token"])).json()["props"] == {"tenant": "acme"}
    denied = await env.token(grant(client, mint(host, client, subject="blocked@x")))
    assert denied.json()["error"] == "invalid_grant"


def test_jwks_cache_ttl_sets_how_long_issuer_keys_are_kept() -> None:
    from oauth_reference import EnterpriseManagedAuthorization

    assert EnterpriseManagedAuthorization()._cache.ttl == 300
    configured = EnterpriseManagedAuthorization.coerce({"trusted_issuers": [], "jwks_cache_ttl": 30})
    assert configured is not None and configured._cache.ttl == 30


@pytest.mark.parametrize("kid", [["a"], {"a": 1}, 7])
async def test_a_kid_that_is_not_a_string_is_a_jose_error_not_a_crash(kid: Any) -> None:
    from oauth_reference.machinery.fetch import FetchPolicy
    from oauth_reference.machinery.jose import JoseCheckError
    from oauth_reference.machinery.jose import JwksCache

    with pytest.raises(JoseCheckError):
        await JwksCache().get("https://idp.invalid/jwks.json", FetchPolicy(), kid=kid)


# --- issue 15, item 9: the hooks' context and a lifetime per mapping -------------------------


async def test_a_resolver_function_gets_the_issuer_the_client_and_the_request(
    make_env: EnvFactory, host: FixtureHost
) -> None:
    from oauth_reference import TrustedIssuer
    from oauth_reference import TrustedIssuerQuery

    seen: list[TrustedIssuerQuery] = []

    async def resolve(query: TrustedIssuerQuery) -> TrustedIssuer | None:
        seen.append(query)
        if query.request.headers.get("x-tenant") != "acme":  # a per-tenant lookup, say
            return None
        return TrustedIssuer(issuer=query.iss, jwks=testkeys.jwks(testkeys.IDP_RS256))

    env: Env = make_env({"enterprise_managed_authorization": {"trusted_issuers": resolve}})
    client = await confidential(env)
    accepted = await env.token(grant(client, mint(host, client)), headers={"X-Tenant": "acme"})
    assert accepted.status_code == 200, accepted.text
    refused = await env.token(grant(client, mint(host, client)), headers={"X-Tenant": "other"})
    assert refused.json()["error"] == "invalid_grant"
    first = seen[0]
    assert first.iss == host.idp_issuer
    assert first.client.client_id == client["client_id"]
    assert first.client.client_secret is None  # the stored client: never the secret
    assert str(first.request.url) == f"{ORIGIN}/oauth/token"


async def test_a_resolver_answering_for_another_issuer_is_not_trusted(make_env: EnvFactory, host: FixtureHost) -> None:
    from oauth_reference import TrustedIssuer

    def confused(query: Any) -> TrustedIssuer:  # the confused deputy: keys of another IdP
        return TrustedIssuer(issuer="https://other-idp.example", jwks=testkeys.jwks(testkeys.IDP_RS256))

    env: Env = make_env({"enterprise_managed_authorization": {"trusted_issuers": confused}})
    client = await confidential(env)
    assert (await env.token(grant(client, mint(host, client)))).json()["error"] == "invalid_grant"


async def test_the_mapper_gets_the_client_and_the_request_and_may_set_the_lifetime(
    make_env: EnvFactory, host: FixtureHost
) -> None:
    from oauth_reference import IdJagClaims
    from oauth_reference import MappedGrant

    seen: list[IdJagClaims] = []

    async def mapping(data: IdJagClaims) -> MappedGrant:
        seen.append(data)
        ttl = 120 if data.request is not None and data.request.headers.get("x-short") else None
        return MappedGrant(user_id="enterprise-user", scope=data.requested_scope, props={}, access_token_ttl=ttl)

    ema = {
        "trusted_issuers": [{"issuer": host.idp_issuer, "jwks": testkeys.jwks(testkeys.IDP_RS256)}],
        "map_claims": mapping,
    }
    env: Env = make_env({"enterprise_managed_authorization": ema, "access_token_ttl": 900})
    client = await confidential(env)
    short = await env.token(grant(client, mint(host, client)), headers={"X-Short": "1"})
    assert short.json()["expires_in"] == 120
    default = await env.token(grant(client, mint(host, client)))
    assert default.json()["expires_in"] == 900
    assert seen[0].client is not None and seen[0].client.client_id == client["client_id"]
    assert seen[0].client_id == client["client_id"]
    env.clock.advance(121)
    assert (await env.api(short.json()["access_token"])).status_code == 401
    assert (await env.api(default.json()["access_token"])).status_code == 200


@pytest.mark.parametrize("ttl", [0, -5, 1.5, True])
async def test_an_invalid_lifetime_from_the_mapper_refuses_the_assertion(
    make_env: EnvFactory, host: FixtureHost, ttl: Any
) -> None:
    from oauth_reference import MappedGrant

    ema = {
        "trusted_issuers": [{"issuer": host.idp_issuer, "jwks": testkeys.jwks(testkeys.IDP_RS256)}],
        "map_claims": lambda data: MappedGrant("u", [], {}, access_token_ttl=ttl),
    }
    env: Env = make_env({"enterprise_managed_authorization": ema})
    client = await confidential(env)
    assert (await env.token(grant(client, mint(host, client)))).json()["error"] == "invalid_grant"

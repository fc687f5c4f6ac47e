"""The JWT bearer grant (RFC 7523 section 2.1) with assertions from the harness's test IdP.

A target tests these assertions only once it trusts the test IdP (``oauth-conformance fixtures``
prints what to configure; the profile then says ``[idjag] trusted = true``). The :func:`bearer`
fixture gives a test a client, the assertion factory and proof that a valid assertion for that client
gets a token: every negative test builds on that happy path, so a refusal means the one change
the test made was refused (otherwise the test is ``not_tested`` and the happy-path requirement
reports the failure). When the target advertises the ID-JAG profile, assertions are ID-JAGs
(``typ`` ``oauth-id-jag+jwt``, with ``client_id`` and ``resource``), which are RFC 7523 JWTs too.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from joserfc import jws
from joserfc.registry import HeaderParameter

from oauth_conformance.features import Feature
from oauth_conformance.plugin import RUN_KEY
from oauth_conformance.support import jwts as assertions
from oauth_conformance.support import probes
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import basic_auth
from oauth_conformance.support.metadata_documents import Documents
from oauth_conformance.target import Target
from oauth_conformance.trust import keys as testkeys
from oauth_conformance.trust.host import FixtureHost
from oauth_conformance.trust.kit import base_url
from oauth_conformance.verdicts import NotApplicable
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_ASSERTION_TYPE = assertions.CLIENT_ASSERTION_TYPE
TRUST_UNLOCK = "[idjag] trusted (see oauth-conformance fixtures)"
SUBJECT = "alice@conformance.test"
OMIT = assertions.OMIT


def trusted_issuer(request: pytest.FixtureRequest, target: Target) -> str:
    """The issuer the harness signs as, once the profile says the target trusts it."""
    if not target.profile.idjag.trusted:
        raise NotTested("the target is not known to trust the harness's test IdP", unlock=TRUST_UNLOCK)
    run = request.config.stash.get(RUN_KEY, None)
    host = run.fixture_host if run is not None else None
    if host is not None:
        return str(host.idp_issuer)
    base, warning = base_url(target.profile)
    if warning:
        raise NotTested(f"the test IdP's issuer is not stable: {warning}", unlock="[fixture_host] port")
    return base + FixtureHost.IDP_PATH


@dataclass
class JwtBearer:
    """A client of the target, the test IdP, and the requests that present assertions."""

    oauth: OAuth
    target: Target
    client: Client
    issuer: str
    idjag: bool

    @property
    def audience(self) -> str:
        return self.target.issuer or self.target.expected_issuer

    def claims(self, client: Client | None = None, **overrides: Any) -> dict[str, Any]:
        """Valid claims for ``client`` (default: this one); an override of ``OMIT`` drops a claim."""
        profile = self.target.profile
        claims = assertions.idjag_claims(
            issuer=self.issuer,
            audience=self.audience,
            client_id=(client or self.client).client_id,
            subject=SUBJECT,
            resource=self.oauth.resource if profile.request.send_resource else None,
            scope=profile.request.scope,
        )
        for name, value in overrides.items():
            if value is OMIT:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def mint(
        self,
        *,
        client: Client | None = None,
        key: str = testkeys.IDP_RS256,
        typ: str | object | None = OMIT,
        alg: str | None = None,
        extra_header: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """A signed assertion; every keyword changes one thing about an otherwise valid one."""
        chosen = (assertions.IDJAG_TYP if self.idjag else None) if typ is OMIT else typ
        assert chosen is None or isinstance(chosen, str)
        claims = self.claims(client, **overrides)
        return assertions.sign(claims, key=key, typ=chosen, alg=alg, extra_header=extra_header)

    def present(self, assertion: str | None, *, client: Client | None = None, **extra: str | None) -> httpx.Response:
        """POST the grant, authenticating as ``client`` (default: this one)."""
        data: dict[str, str | None] = {"grant_type": JWT_BEARER, "assertion": assertion, **extra}
        return self.oauth.token_request(client or self.client, data)

    def present_pairs(self, pairs: list[tuple[str, str]]) -> httpx.Response:
        """POST raw form pairs (repeated parameters), authenticating with client_secret_basic or post."""
        endpoint = self.target.endpoint("token_endpoint")
        assert endpoint is not None
        headers: dict[str, str] = {}
        body = list(pairs)
        if self.client.auth_method == "client_secret_basic" and self.client.client_secret:
            headers["Authorization"] = basic_auth(self.client.client_id, self.client.client_secret)
        else:
            body.append(("client_id", self.client.client_id))
            if self.client.client_secret:
                body.append(("client_secret", self.client.client_secret))
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.oauth.http.post(endpoint, content=urlencode(body), headers=headers)

    def mint_critical(self, extension: str) -> str:
        """A valid assertion whose header marks ``extension`` as critical (RFC 7515 section 4.1.11).
        The harness's signer is told about the extension; the target is not, so it must refuse."""
        key = testkeys.private_key(testkeys.IDP_RS256)
        header: dict[str, Any] = {"alg": "RS256", "kid": key.kid, "crit": [extension], extension: True}
        if self.idjag:
            header["typ"] = assertions.IDJAG_TYP
        registry = jws.JWSRegistry(header_registry={extension: HeaderParameter("test extension", "bool")})
        return jws.serialize_compact(header, orjson.dumps(self.claims()), key, algorithms=["RS256"], registry=registry)


def grant_client(clients: Clients, target: Target) -> Client:
    """A confidential client, registered for the JWT bearer grant where registration is offered."""
    grants = ["authorization_code", JWT_BEARER]
    try:
        return clients.confidential(grant_types=grants)
    except PrerequisiteFailed:
        # A server may keep the grant from self-registered clients and provision its clients out of
        # band (mcp's SDK does): the profile's confidential client, when it names one.
        provisioned = clients.provisioned("confidential")
        if provisioned is not None:
            return provisioned
        return clients.confidential()  # a server may allow the grant to every confidential client


def another_client(clients: Clients, target: Target, than: Client) -> Client:
    """A client other than ``than`` (for an assertion issued to someone else, the binding tests): one
    registered for the grant; else, when the server keeps the grant from self-registered clients or
    provisions it for one client only, any other real client (never ``than`` itself)."""
    try:
        return clients.another(than, grant_types=["authorization_code", JWT_BEARER])
    except (PrerequisiteFailed, NotTested):
        other = clients.confidential()
    return other if other.client_id != than.client_id else clients.another(than)


def describe(response: httpx.Response) -> str:
    code = error_code(response)
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


def granted(response: httpx.Response, what: str) -> dict[str, Any]:
    """The token response for a valid assertion, or PrerequisiteFailed naming ``what`` to look at."""
    if response.status_code != 200:
        raise PrerequisiteFailed(
            f"a valid assertion from the harness's test IdP was refused ({describe(response)}); see {what}"
        )
    try:
        body = response.json()
    except ValueError:
        raise PrerequisiteFailed(f"a valid assertion got HTTP 200 without JSON; see {what}") from None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise PrerequisiteFailed(f"a valid assertion got HTTP 200 without an access_token; see {what}")
    return body


def happy_path_requirement(bearer: JwtBearer) -> str:
    return "IDJAG-4.4-GRANT" if bearer.idjag else "RFC7523-2.1-GRANT"


def new_bearer(request: pytest.FixtureRequest, target: Target, oauth: OAuth, clients: Clients) -> JwtBearer:
    """A client and the test IdP, the happy path not yet tried (not_tested unless the target trusts it)."""
    issuer = trusted_issuer(request, target)
    client = grant_client(clients, target)
    return JwtBearer(oauth, target, client, issuer, idjag=target.supports(Feature.IDJAG))


def prove_bearer(bearer: JwtBearer) -> JwtBearer:
    """The same, once a valid assertion got a token (else PrerequisiteFailed)."""
    granted(bearer.present(bearer.mint()), happy_path_requirement(bearer))
    return bearer


@pytest.fixture
def fresh_bearer(request: pytest.FixtureRequest, target: Target, oauth: OAuth, clients: Clients) -> JwtBearer:
    """A client and the test IdP, the happy path not yet tried (for the happy-path tests)."""
    return new_bearer(request, target, oauth, clients)


@pytest.fixture
def bearer(fresh_bearer: JwtBearer) -> JwtBearer:
    """A client for which a valid assertion gets a token (else the test is not_tested)."""
    return prove_bearer(fresh_bearer)


def assert_refused(response: httpx.Response, what: str) -> None:
    """The token request was refused with an OAuth error response (the error code is checked elsewhere)."""
    __tracebackhide__ = True
    assert response.status_code != 200, f"the server issued a token for {what}"
    assert response.status_code in (400, 401), f"{what}: HTTP {response.status_code} is not an OAuth refusal"
    assert error_code(response), f"{what}: HTTP {response.status_code} without an OAuth error code"


def assert_invalid_grant(response: httpx.Response, what: str) -> None:
    """Refused with 400 invalid_grant (RFC 7521 section 4.1.1, RFC 7523 section 3.1)."""
    __tracebackhide__ = True
    assert_refused(response, what)
    code = error_code(response)
    assert code == "invalid_grant", f"{what} was refused with {code}, not invalid_grant"
    assert response.status_code == 400, f"{what}: invalid_grant came with HTTP {response.status_code}, not 400"


# --------------------------------------------------------------------- client assertions (2.2)
@dataclass
class KeyClient:
    """A client registered with the harness's TEST-ONLY client key, authenticating with
    ``private_key_jwt`` (RFC 7523 section 2.2)."""

    client: Client
    oauth: OAuth
    target: Target

    @property
    def audience(self) -> str:
        return self.target.issuer or self.target.expected_issuer

    def assertion(self, *, key: str = testkeys.CLIENT_RS256, **overrides: Any) -> str:
        """A client assertion; an override of ``OMIT`` drops a claim."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.client.client_id,
            "sub": self.client.client_id,
            "aud": self.audience,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 120,
        }
        for name, value in overrides.items():
            if value is OMIT:
                claims.pop(name, None)
            else:
                claims[name] = value
        return assertions.sign(claims, key=key, typ=None)

    def credentials(self, assertion: str | None) -> dict[str, str | None]:
        return {"client_assertion_type": CLIENT_ASSERTION_TYPE, "client_assertion": assertion}

    def redeem(self, assertion: str | None, **kwargs: Any) -> httpx.Response:
        """A fresh code for this client, redeemed with ``assertion`` as the client's credentials."""
        authorization = self.oauth.code(self.client, **kwargs)
        return self.oauth.exchange(authorization, **self.credentials(assertion))


def document_key_client(documents: Documents, oauth: OAuth, target: Target) -> KeyClient:
    """A metadata document client declaring private_key_jwt with the harness's TEST-ONLY client key."""
    grants = ["authorization_code", *(["refresh_token"] if target.supports(Feature.REFRESH) else [])]
    members = {
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": testkeys.jwks(testkeys.CLIENT_RS256),
        "grant_types": grants,
    }
    url = documents.url(doc=members)
    return KeyClient(documents.client(url, auth_method="private_key_jwt"), oauth, target)


def key_client_registration(target: Target, clients: Clients, request: pytest.FixtureRequest, oauth: OAuth) -> Client:
    """A private_key_jwt client: a metadata document on the fixture host when the target supports
    them (CIMD section 6.2), else one registered with ``jwks`` (RFC 7591); when the target offers
    the method (advertised, or seen by the probe)."""
    probes.private_key_jwt(target, lambda: KeyClient(new_key_client(target, clients, request), oauth, target))
    if not target.supports(Feature.PRIVATE_KEY_JWT):
        raise NotApplicable(f"the target does not offer {Feature.PRIVATE_KEY_JWT.description}")
    return new_key_client(target, clients, request)


def new_key_client(target: Target, clients: Clients, request: pytest.FixtureRequest) -> Client:
    """A fresh private_key_jwt client (see :func:`key_client_registration`), offered or not."""
    jwks = testkeys.jwks(testkeys.CLIENT_RS256)
    grants = ["authorization_code", *(["refresh_token"] if target.supports(Feature.REFRESH) else [])]
    if target.supports(Feature.CIMD):
        documents = request.getfixturevalue("documents")
        url = documents.url(doc={"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks, "grant_types": grants})
        return documents.client(url, auth_method="private_key_jwt")  # type: ignore[no-any-return]
    if not target.supports(Feature.REGISTRATION):
        raise NotTested(
            "needs a private_key_jwt client: the target offers neither metadata documents nor registration",
            unlock="[[clients]]",
        )
    response = clients.register(clients.metadata("private_key_jwt", jwks=jwks, grant_types=grants))
    if response.status_code not in (200, 201):
        raise PrerequisiteFailed(f"registering a private_key_jwt client with jwks failed ({describe(response)})")
    body = response.json()
    uris = body.get("redirect_uris") or [clients.redirect_uri]
    return Client(str(body["client_id"]), "private_key_jwt", uris[0], registration=body)


@pytest.fixture
def fresh_key_client(request: pytest.FixtureRequest, target: Target, oauth: OAuth, clients: Clients) -> KeyClient:
    """A private_key_jwt client whose happy path has not been tried."""
    return KeyClient(key_client_registration(target, clients, request, oauth), oauth, target)


@pytest.fixture
def key_client(fresh_key_client: KeyClient) -> KeyClient:
    """A private_key_jwt client for which a valid assertion redeems a code (else not_tested)."""
    response = fresh_key_client.redeem(fresh_key_client.assertion())
    if response.status_code != 200:
        raise PrerequisiteFailed(
            f"a code redeemed with a valid client assertion was refused ({describe(response)});"
            " see RFC7523-2.2-CLIENT-AUTH"
        )
    return fresh_key_client


def assert_client_refused(response: httpx.Response, what: str) -> None:
    """The token request was refused (client authentication failed, or the request was rejected)."""
    __tracebackhide__ = True
    assert response.status_code != 200, f"the server accepted {what} as client authentication"
    assert response.status_code in (400, 401), f"{what}: HTTP {response.status_code} is not an OAuth refusal"
    assert error_code(response), f"{what}: HTTP {response.status_code} without an OAuth error code"

"""ID-JAG: the Identity Assertion JWT Authorization Grant (``enterprise_managed_authorization``).

draft-ietf-oauth-identity-assertion-authz-grant-04 and the MCP Enterprise-Managed Authorization
extension: an enterprise IdP issues a signed JWT (``typ`` ``oauth-id-jag+jwt``) for one client
and this authorization server; the client presents it with the RFC 7523 JWT bearer grant and
gets an access token (and no refresh token: the assertion is what is renewed).

Checks, each an ``invalid_grant`` unless said otherwise: size, compact form, ``typ``, an
algorithm on the issuer's allowlist, a trusted ``iss``, the signature against the issuer's JWK
Set, the required claims, ``aud`` exactly this issuer (a string or a one-element array),
``client_id`` equal to the authenticated client, ``exp``/``iat``/``nbf`` within the clock skew,
a bounded lifetime, ``resource`` (``invalid_target``) and ``scope`` (``invalid_scope``), no
``cnf`` or ``authorization_details`` (unsupported), and ``jti`` never seen before: the replay
marker is written in the same atomic commit as the grant, so even concurrent replays win once.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import quote

from . import crypto
from . import grants
from .errors import ConfigurationError
from .errors import InvalidClientError
from .errors import InvalidGrantError
from .errors import InvalidRequestError
from .errors import InvalidScopeError
from .errors import InvalidTargetError
from .fetch import FetchPolicy
from .jose import ASYMMETRIC
from .jose import JoseCheckError
from .jose import JwksCache
from .jose import audience_list
from .jose import number
from .jose import public_jwks_problem
from .jose import unverified
from .jose import verify
from .records import Grant
from .rfc8707 import canonical
from .rfc8707 import parse_resource
from .scopes import is_scope_token
from .scopes import parse_scope
from .storage import Put
from .tokens import TokenRequest
from .tokens import token_response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"
TYP = "oauth-id-jag+jwt"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "client_id", "jti", "exp", "iat")


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An IdP whose ID-JAGs this server accepts."""

    issuer: str
    jwks_uri: str | None = None
    jwks: Mapping[str, Any] | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    audience: str | None = None  # default: this server's issuer

    def __post_init__(self) -> None:
        if (self.jwks_uri is None) == (self.jwks is None):
            raise ConfigurationError(f"trusted issuer {self.issuer}: give exactly one of jwks_uri and jwks")
        if self.jwks is not None and public_jwks_problem(dict(self.jwks)):
            raise ConfigurationError(f"trusted issuer {self.issuer}: {public_jwks_problem(dict(self.jwks))}")
        bad = [a for a in self.algorithms if a not in ASYMMETRIC]
        if bad:
            raise ConfigurationError(f"trusted issuer {self.issuer}: algorithms {bad} are not allowed")


@dataclass(frozen=True, slots=True)
class IdJagClaims:
    """What the claims mapper receives."""

    claims: Mapping[str, Any]
    client_id: str
    requested_scope: list[str]
    resource: str


@dataclass(frozen=True, slots=True)
class MappedGrant:
    """What the claims mapper returns: who the grant is for and what it carries."""

    user_id: str
    scope: list[str]
    props: Any
    metadata: Any = None


ClaimsMapper = Callable[[IdJagClaims], "MappedGrant | Awaitable[MappedGrant | None] | None"]
IssuerResolver = Callable[[str], "TrustedIssuer | Awaitable[TrustedIssuer | None] | None"]


def default_mapping(data: IdJagClaims) -> MappedGrant:
    """User ``idjag.<sub>`` (percent-encoded), the requested scope, and the IdP's identity as props."""
    claims = data.claims
    props = {k: claims[k] for k in ("iss", "sub", "email", "name") if k in claims}
    return MappedGrant(user_id="idjag." + quote(str(claims["sub"]), safe=""), scope=data.requested_scope, props=props)


@dataclass(frozen=True, slots=True)
class EnterpriseManagedAuthorization:
    trusted_issuers: tuple[TrustedIssuer, ...] | IssuerResolver = ()
    map_claims: ClaimsMapper = default_mapping
    jwks_cache_ttl: int = 300
    clock_skew: int = 60
    max_assertion_lifetime: int = 300
    allow_public_clients: bool = False
    access_token_ttl: int | None = None
    _cache: JwksCache = field(default_factory=JwksCache, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The issuers' key sets are kept for jwks_cache_ttl seconds (frozen: set through object).
        object.__setattr__(self, "_cache", JwksCache(ttl=float(self.jwks_cache_ttl)))

    @classmethod
    def coerce(cls, value: object) -> EnterpriseManagedAuthorization | None:
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise ConfigurationError("enterprise_managed_authorization must be a table of options")
        args = dict(value)
        issuers = args.pop("trusted_issuers", [])
        if isinstance(issuers, list):
            made = []
            for entry in issuers:
                if not isinstance(entry, Mapping) or "issuer" not in entry:
                    raise ConfigurationError("every trusted issuer needs an issuer")
                entry = dict(entry)
                if "algorithms" in entry:
                    entry["algorithms"] = tuple(entry["algorithms"])
                made.append(TrustedIssuer(**entry))
            args["trusted_issuers"] = tuple(made)
        else:
            args["trusted_issuers"] = issuers
        try:
            return cls(**args)
        except TypeError as exc:
            raise ConfigurationError(f"enterprise_managed_authorization: {exc}") from None

    async def issuer(self, iss: str) -> TrustedIssuer | None:
        if callable(self.trusted_issuers):
            found = self.trusted_issuers(iss)
            if inspect.isawaitable(found):
                found = await found
            return found if isinstance(found, TrustedIssuer) and found.issuer == iss else None
        return next((t for t in self.trusted_issuers if t.issuer == iss), None)


def _fail(reason: str) -> InvalidGrantError:  # RFC7523-3.1-INVALID-GRANT
    return InvalidGrantError(f"invalid assertion: {reason}")


async def grant(request: TokenRequest) -> dict[str, Any]:
    core, form, client = request.core, request.form, request.client
    ema: EnterpriseManagedAuthorization = core.options.enterprise_managed_authorization
    if client.is_public and not ema.allow_public_clients:  # IDJAG-8.1-CONFIDENTIAL
        raise InvalidClientError("this grant requires client authentication")
    assertion = form.get("assertion")
    if assertion is None:  # RFC7523-2.1-ASSERTION (a repeated one is refused by forms.py)
        raise InvalidRequestError("assertion is required")
    try:
        header, claims = unverified(assertion)  # RFC7523-3-VALID-JWT
    except JoseCheckError as exc:
        raise _fail(exc.reason) from None
    if header.get("typ") != TYP:  # IDJAG-4.4.1-TYP
        raise _fail(f"typ must be {TYP}")
    iss = claims.get("iss")
    trusted = await ema.issuer(iss) if isinstance(iss, str) else None
    if trusted is None:  # RFC7523-3-ISS, IDJAG-4.4.1-RFC7521
        raise _fail("the issuer is not trusted")
    if header.get("alg") not in trusted.algorithms:
        raise _fail("the algorithm is not allowed for this issuer")
    policy = FetchPolicy(allow_loopback=core.allow_loopback_fetch)
    try:
        keys = (
            dict(trusted.jwks)
            if trusted.jwks is not None
            else await ema._cache.get(str(trusted.jwks_uri), policy, kid=header.get("kid"))
        )
        verified = verify(assertion, keys, trusted.algorithms)  # RFC7523-3-SIG, IDJAG-4.4.1-RFC7521
    except JoseCheckError as exc:
        raise _fail(exc.reason) from None
    now = core.now()
    checked = _check_claims(verified, trusted, ema, client.client_id, request.issuer, now)
    resource = core.resource(request.issuer)
    wanted = list(form.get_all("resource"))
    claim_resource = verified.get("resource")  # IDJAG-4.4.1-RESOURCE
    for value in [*wanted, *([claim_resource] if claim_resource is not None else [])]:
        if not isinstance(value, str) or parse_resource(value) != canonical(resource):
            raise InvalidTargetError("the resource is not served by this authorization server")
    claim_scope = verified.get("scope")
    if claim_scope is not None and (
        not isinstance(claim_scope, str) or not all(is_scope_token(t) for t in claim_scope.split(" ") if t)
    ):
        raise _fail("the scope claim is malformed")
    allowed = parse_scope(claim_scope) if isinstance(claim_scope, str) else None  # IDJAG-4.4.1-SCOPE
    requested = parse_scope(form.get("scope")) or (allowed or [])
    if allowed is not None and [s for s in requested if s not in allowed]:
        raise InvalidScopeError("the requested scope exceeds the assertion's scope")
    mapped = ema.map_claims(IdJagClaims(verified, client.client_id, requested, resource))
    if inspect.isawaitable(mapped):
        mapped = await mapped
    if not isinstance(mapped, MappedGrant):
        raise _fail("the assertion was not authorized")
    try:
        grants.check_user_id(mapped.user_id)
    except ValueError:
        raise _fail("the mapped user id is invalid") from None
    scope = list(dict.fromkeys(mapped.scope))
    if allowed is not None and [s for s in scope if s not in allowed]:  # IDJAG-4.4.1-SCOPE
        raise _fail("the mapped scope exceeds the assertion's scope")
    ttl = min(ema.access_token_ttl or core.options.access_token_ttl, core.options.access_token_ttl)
    grant_id = grants.new_grant_id()
    props_key, encrypted = grants.encrypt_new_props(mapped.props)
    new = Grant(
        id=grant_id,
        client_id=client.client_id,
        user_id=mapped.user_id,
        scope=scope,
        metadata=mapped.metadata,
        encrypted_props=encrypted,
        created_at=int(now),
        expires_at=now + ttl,
        resource=resource,
    )
    minted = grants.mint_access_token(
        new,
        client_id=client.client_id,
        props_key=props_key,
        encrypted_props=encrypted,
        scope=scope,
        audience=resource,
        now=now,
        ttl=ttl,
    )
    # RFC7523-3-REPLAY: the jti marker and the grant are one atomic commit.
    marker = f"idjag-jti:{crypto.sha256_hex(str(verified['iss']) + chr(10) + str(verified['jti']))}"
    writes = [*grants.grant_writes(new), minted.write, Put(marker, b"1", checked + ema.clock_skew)]
    if not await core.storage.commit(writes, expect={marker: None}):
        raise _fail("the assertion was already used (jti replay)")
    # RFC7523-2.1-GRANT, IDJAG-4.4-GRANT; granted scope and resource in the response
    # (IDJAG-4.4.1-RESP-GRANTED); no refresh token (IDJAG-4.4.3-NO-RT).
    return token_response(minted.token, ttl, scope, None, resource)


def _check_claims(
    claims: dict[str, Any],
    trusted: TrustedIssuer,
    ema: EnterpriseManagedAuthorization,
    client_id: str,
    issuer: str,
    now: float,
) -> float:
    """Check the claims; returns ``exp`` (for the replay marker's lifetime)."""
    for name in REQUIRED_CLAIMS:  # IDJAG-3.1-REQUIRED-CLAIMS, RFC7523-3-SUB, RFC7523-3-EXP
        value = claims.get(name)
        if value is None or value == "" or value == []:
            raise _fail(f"the {name} claim is missing")
    for name in ("sub", "jti", "client_id"):
        if not isinstance(claims[name], str):
            raise _fail(f"the {name} claim is not a string")
    if claims["iss"] != trusted.issuer:  # RFC7523-3-ISS
        raise _fail("iss does not match the trusted issuer")
    audiences = audience_list(claims["aud"])  # IDJAG-4.4.1-AUD, RFC7523-3-AUD
    expected = trusted.audience or issuer
    if audiences is None or audiences != [expected]:
        raise _fail("aud must be exactly this authorization server")
    if claims["client_id"] != client_id:  # IDJAG-4.4.1-CLIENT-BIND
        raise _fail("client_id does not name the authenticated client")
    # No key binding or RAR support: refused outright (IDJAG-8.6.1.2.2-CNF-NO-PROOF, IDJAG-4.4.1-RAR).
    if "cnf" in claims or "authorization_details" in claims:
        raise _fail("cnf and authorization_details are not supported")
    try:
        exp, iat, nbf = number(claims, "exp"), number(claims, "iat"), number(claims, "nbf")
    except JoseCheckError as exc:
        raise _fail(exc.reason) from None
    assert exp is not None and iat is not None
    skew = ema.clock_skew
    if exp + skew <= now:  # RFC7523-3-EXP, IDJAG-4.4.1-RFC7521
        raise _fail("the assertion has expired")
    if iat > now + skew:
        raise _fail("the assertion was issued in the future")
    if nbf is not None and nbf > now + skew:  # RFC7523-3-NBF, IDJAG-4.4.1-RFC7521
        raise _fail("the assertion is not valid yet")
    if exp - iat > ema.max_assertion_lifetime + skew:
        raise _fail("the assertion lives too long")
    return exp

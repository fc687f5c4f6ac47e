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
from typing import Any

from oauth_reference.errors import InvalidClientError
from oauth_reference.errors import InvalidGrantError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.errors import InvalidScopeError
from oauth_reference.errors import InvalidTargetError
from oauth_reference.machinery import crypto
from oauth_reference.machinery import grants
from oauth_reference.machinery.jose import JoseCheckError
from oauth_reference.machinery.jose import audience_list
from oauth_reference.machinery.jose import number
from oauth_reference.machinery.jose import unverified
from oauth_reference.machinery.jose import verify
from oauth_reference.machinery.records import Grant
from oauth_reference.machinery.storage import Put
from oauth_reference.options import EnterpriseManagedAuthorization
from oauth_reference.options import IdJagClaims
from oauth_reference.options import MappedGrant
from oauth_reference.options import TrustedIssuer
from oauth_reference.options import TrustedIssuerQuery
from oauth_reference.specs.oauth21.scopes import is_scope_token
from oauth_reference.specs.oauth21.scopes import parse_scope
from oauth_reference.specs.oauth21.token_request import TokenRequest
from oauth_reference.specs.oauth21.token_request import token_response
from oauth_reference.specs.rfc8707 import canonical
from oauth_reference.specs.rfc8707 import parse_resource
from oauth_reference.specs.rfc8707 import same_origin

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PROFILE = "urn:ietf:params:oauth:grant-profile:id-jag"
TYP = "oauth-id-jag+jwt"
REQUIRED_CLAIMS = ("iss", "sub", "aud", "client_id", "jti", "exp", "iat")


def _fail(reason: str) -> InvalidGrantError:  # RFC7523-3.1-INVALID-GRANT
    return InvalidGrantError(f"invalid assertion: {reason}")


async def grant(request: TokenRequest) -> dict[str, Any]:
    core, form, client = request.core, request.form, request.client
    ema = core.options.enterprise_managed_authorization
    assert ema is not None  # the grant is in the table only when the option is set
    if client.is_public and not ema.allow_public_clients:  # IDJAG-8.1-CONFIDENTIAL
        raise InvalidClientError("this grant requires client authentication")
    assertion = form.get("assertion")
    if assertion is None:  # RFC7523-2.1-ASSERTION (a repeated one is refused by forms.py)
        raise InvalidRequestError("assertion is required")
    try:
        header, claims = core.faults.wrap("idjag-parse", unverified)(assertion)  # RFC7523-3-VALID-JWT
    except JoseCheckError as exc:
        raise _fail(exc.reason) from None
    if header.get("typ") != TYP:  # IDJAG-4.4.1-TYP
        raise _fail(f"typ must be {TYP}")
    iss = claims.get("iss")
    http_request = request.http_request()
    trusted = await ema.issuer(TrustedIssuerQuery(iss, client, http_request)) if isinstance(iss, str) else None
    if trusted is None:  # RFC7523-3-ISS, IDJAG-4.4.1-RFC7521
        raise _fail("the issuer is not trusted")
    if header.get("alg") not in trusted.algorithms:
        raise _fail("the algorithm is not allowed for this issuer")
    policy = core.fetch_policy()
    try:
        keys = (
            dict(trusted.jwks)
            if trusted.jwks is not None
            else await ema._cache.get(str(trusted.jwks_uri), policy, kid=header.get("kid"))
        )
        check_signature = core.faults.wrap("idjag-verify", verify)
        verified = check_signature(assertion, keys, trusted.algorithms)  # RFC7523-3-SIG, IDJAG-4.4.1-RFC7521
    except JoseCheckError as exc:
        raise _fail(exc.reason) from None
    now = core.now()
    checked = _check_claims(verified, trusted, ema, client.client_id, request.issuer, now)
    _check_binding(verified, request)
    resource = core.resource(request.issuer)
    wanted = list(form.get_all("resource"))
    claim_resource = verified.get("resource")  # IDJAG-4.4.1-RESOURCE
    origin_only = core.options.resource_match_origin_only
    for value in [*wanted, *([claim_resource] if claim_resource is not None else [])]:
        if not isinstance(value, str) or not _names(parse_resource(value), resource, origin_only):
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
    mapped = ema.map_claims(IdJagClaims(verified, client.client_id, requested, resource, client, http_request))
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
    if mapped.access_token_ttl is not None:
        # The mapping's own lifetime for this token, as the seed's accessTokenTTL: it replaces the
        # default rather than being capped by it.
        ttl = mapped.access_token_ttl
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
            raise _fail("the mapped access token lifetime is invalid")
    else:
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
        resource=[resource],
    )
    minted = grants.mint_access_token(
        new,
        client_id=client.client_id,
        props_key=props_key,
        encrypted_props=encrypted,
        scope=scope,
        audience=[resource],
        now=now,
        ttl=ttl,
        jkt=request.bind_jkt,
    )
    # RFC7523-3-REPLAY: the jti marker and the grant are one atomic commit.
    marker = f"idjag-jti:{crypto.sha256_hex(str(verified['iss']) + chr(10) + str(verified['jti']))}"
    writes = [*grants.grant_writes(new), minted.write, Put(marker, b"1", checked + ema.clock_skew)]
    if not await core.storage.commit(writes, expect={marker: None}):
        raise _fail("the assertion was already used (jti replay)")
    # RFC7523-2.1-GRANT, IDJAG-4.4-GRANT; granted scope and resource in the response
    # (IDJAG-4.4.1-RESP-GRANTED); no refresh token (IDJAG-4.4.3-NO-RT).
    return token_response(minted.token, ttl, scope, None, [resource], dpop=request.bind_jkt is not None)


def _names(requested: str, resource: str, origin_only: bool) -> bool:
    """The configured resource, or (``resource_match_origin_only``) a resource on its origin."""
    return requested == canonical(resource) or (origin_only and same_origin(requested, resource))


def _check_binding(claims: dict[str, Any], request: TokenRequest) -> None:
    """ID-JAG section 8.6.1.2 (9.8.1.2 in -04): an assertion bound to a key is used only with a proof of it.

    A proof sent without a cnf was already checked by the token endpoint (IDJAG-8.6.1.2.3-PROOF-NO-CNF),
    as was a proof sent with one (IDJAG-8.6.1.2.1-PROOF-VALID).
    """
    cnf = claims.get("cnf")
    if cnf is None:
        return
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    if not isinstance(jkt, str) or not jkt:
        raise _fail("the cnf claim carries no jkt")
    if request.proof is None:  # IDJAG-8.6.1.2.2-CNF-NO-PROOF
        raise _fail("the assertion is bound to a key: proof of possession (a DPoP proof) is required")
    if not crypto.equal(request.proof.jkt, jkt):  # IDJAG-8.6.1.2.1-CNF-MISMATCH
        raise _fail("the DPoP proof was made with another key than the one the assertion is bound to")


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
    # No RAR support: refused outright (IDJAG-4.4.1-RAR). A cnf binds the grant to a DPoP key (_check_binding).
    if "authorization_details" in claims:
        raise _fail("authorization_details are not supported")
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

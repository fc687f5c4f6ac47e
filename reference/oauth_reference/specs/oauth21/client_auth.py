"""Client authentication at the token and revocation endpoints (OAuth 2.1 section 2.4).

``client_secret_basic``, ``client_secret_post`` and ``none``. Every failure is 401
``invalid_client``; when the client tried HTTP Basic the response carries a ``Basic`` challenge
(OAUTH21-3.2.4-401-BASIC). A client uses the method it registered; a client created without an
explicit method may use either secret method, never ``none``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from oauth_reference import client_store as clients
from oauth_reference.core import Core
from oauth_reference.errors import CimdError
from oauth_reference.errors import InvalidClientError
from oauth_reference.errors import InvalidRequestError
from oauth_reference.machinery import crypto
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.jose import JoseCheckError
from oauth_reference.machinery.jose import JwksCache
from oauth_reference.machinery.jose import audience_list
from oauth_reference.machinery.jose import number
from oauth_reference.machinery.jose import unverified
from oauth_reference.machinery.jose import verify
from oauth_reference.machinery.records import ClientInfo
from oauth_reference.machinery.storage import Put
from oauth_reference.specs.oauth21.forms import FormParams

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="OAuth"'}  # OAUTH21-3.2.4-401-BASIC


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_MAX_LIFETIME = 3600
ASSERTION_SKEW = 60


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str | None
    secret: str | None
    method: str  # client_secret_basic, client_secret_post, private_key_jwt or none
    assertion: str | None = None


def read_credentials(request: Request, form: FormParams) -> Credentials:
    # From the Authorization header and the body only, never the query (OAUTH21-2.4.1-NOT-IN-URI).
    authorization = request.header("authorization")
    body_id = form.get("client_id")
    body_secret = form.get("client_secret")
    assertion, assertion_type = form.get("client_assertion"), form.get("client_assertion_type")
    if assertion is not None or assertion_type is not None:
        basic = authorization is not None and authorization.partition(" ")[0].lower() == "basic"
        if basic or body_secret is not None:  # OAUTH21-2.4-ONE-METHOD
            raise InvalidRequestError("the client must not use more than one authentication method")
        if assertion is None or assertion_type != ASSERTION_TYPE:  # RFC7523-3.2-INVALID-CLIENT
            raise InvalidClientError("client_assertion needs client_assertion_type " + ASSERTION_TYPE)
        if body_id is None:
            try:
                body_id = str(unverified(assertion)[1].get("iss") or "") or None
            except JoseCheckError:
                raise InvalidClientError("the client assertion cannot be parsed") from None
        return Credentials(body_id, None, "private_key_jwt", assertion)
    # The scheme alone ("Basic" with no credentials) is still an attempt at Basic (RFC 6749 section 5.2).
    if authorization is not None and authorization.partition(" ")[0].lower() == "basic":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
            raw_id, sep, raw_secret = decoded.partition(":")
            if not sep or not raw_id:
                raise ValueError
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidClientError("malformed HTTP Basic credentials", headers=BASIC_CHALLENGE) from None
        # OAuth 2.1 section 2.4.1: id and secret are form-urlencoded before Basic encoding
        # (OAUTH21-2.4.1-BASIC-ENCODING).
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        if body_secret is not None or (body_id is not None and body_id != client_id):  # OAUTH21-2.4-ONE-METHOD
            raise InvalidRequestError("the client must not use more than one authentication method")
        return Credentials(client_id, secret, "client_secret_basic")
    if body_secret is not None:  # OAUTH21-2.4.1-SECRET-POST
        return Credentials(body_id, body_secret, "client_secret_post")
    return Credentials(body_id, None, "none")


# OAUTH21-3.2.2-AUTH-METHODS: every advertised method (none, client_secret_basic, client_secret_post,
# private_key_jwt) authenticates a client registered for it.
async def authenticate(core: Core, request: Request, form: FormParams) -> ClientInfo:
    credentials = read_credentials(request, form)
    challenge = BASIC_CHALLENGE if credentials.method == "client_secret_basic" else None
    if credentials.client_id is None:  # OAUTH21-4.1.3-PUBLIC-CLIENT-ID
        raise InvalidClientError("client authentication is required (client_id is missing)")
    try:
        client = await clients.lookup(core, credentials.client_id)
    except CimdError as exc:
        raise InvalidClientError(
            f"the client's metadata document is not usable: {exc.reason}", headers=challenge
        ) from None
    if client is None:
        raise InvalidClientError("unknown client", headers=challenge)
    registered = client.token_endpoint_auth_method
    # RFC7523-2.2-CLIENT-AUTH, CIMD-6.2-PKJWT: a private_key_jwt client authenticates with its assertion only.
    if registered == "private_key_jwt" or credentials.method == "private_key_jwt":
        if credentials.method == "none" and core.faults.on("private-key-jwt-optional"):
            return client
        if registered != credentials.method or credentials.assertion is None:
            raise InvalidClientError(f"this client is registered for {registered}", headers=challenge)
        await verify_assertion(core, request, client, credentials.assertion)
        return client
    if registered == "none":
        if credentials.method != "none":
            raise InvalidClientError("this public client must not send a client secret", headers=challenge)
        return client
    # OAUTH21-3.2.2-CONF-AUTH, OAUTH21-4.3.1-RT-CONF-AUTH, RFC8693-2.1-CLIENT-AUTH: whatever the grant.
    if credentials.method == "none":
        raise InvalidClientError("this confidential client must authenticate", headers=challenge)
    if client.auth_method_explicit and credentials.method != registered:
        raise InvalidClientError(f"this client is registered for {registered}", headers=challenge)
    assert credentials.secret is not None
    stored = client.client_secret_hash or ""
    # Hash first, then compare in constant time: timing reveals nothing about the stored hash.
    # OAUTH21-3.2.2-AUTHENTICATE, RFC7523-3.1-CLIENT-CREDS (also alongside a JWT bearer grant).
    if not stored or not crypto.equal(crypto.sha256_hex(credentials.secret), stored):
        raise InvalidClientError("client authentication failed", headers=challenge)
    expires = client.client_secret_expires_at
    if expires and expires <= core.now():  # RFC7591-3.2.1-SECRET-EXPIRY
        raise InvalidClientError("the client secret has expired", headers=challenge)
    return client


async def verify_assertion(core: Core, request: Request, client: ClientInfo, assertion: str) -> None:
    """RFC 7523 section 3: a client assertion signed with one of the client's registered keys."""

    def fail(reason: str) -> InvalidClientError:  # RFC7523-3.2-INVALID-CLIENT
        return InvalidClientError(f"client assertion rejected: {reason}")

    try:
        header, _ = unverified(assertion)
        if client.jwks is not None:
            keys = dict(client.jwks)
        elif client.jwks_uri is not None:
            if core.jwks_cache is None:
                core.jwks_cache = JwksCache()
            # A document's jwks_uri is fetched under fetch.py's SSRF rules (CIMD-6.5-SSRF-EMBEDDED).
            policy = core.fetch_policy()
            keys = await core.jwks_cache.get(client.jwks_uri, policy, kid=header.get("kid"))
        else:
            raise fail("the client has no keys")
        check_signature = core.faults.wrap("client-assertion-verify", verify)
        claims = check_signature(assertion, keys, ("RS256", "ES256", "PS256", "EdDSA"))  # RFC7523-3-CLIENT-SIG
        exp, nbf, iat = number(claims, "exp"), number(claims, "nbf"), number(claims, "iat")
    except JoseCheckError as exc:
        raise fail(exc.reason) from None
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:  # RFC7523-3-CLIENT-SUB
        raise fail("iss and sub must both be the client_id")
    issuer = core.issuer(request.origin)  # RFC7523-3-CLIENT-AUD
    accepted = {issuer, core.absolute(core.options.token_endpoint, issuer)}
    if core.options.pushed_authorization_request_endpoint:  # RFC9126-2-AUDIENCE: the PAR endpoint URL too
        accepted.add(core.absolute(core.options.pushed_authorization_request_endpoint, issuer))
    audiences = audience_list(claims.get("aud"))
    if not audiences or not accepted & set(audiences):
        raise fail("aud must identify this authorization server")
    now = core.now()
    # RFC7523-3-CLIENT-EXP
    if exp is None or exp + ASSERTION_SKEW <= now or exp > now + ASSERTION_MAX_LIFETIME + ASSERTION_SKEW:
        raise fail("exp is missing, past, or too far ahead")
    if (nbf is not None and nbf > now + ASSERTION_SKEW) or (iat is not None and iat > now + ASSERTION_SKEW):
        raise fail("the assertion is not valid yet")
    jti = claims.get("jti")  # RFC7523-3-REPLAY: each assertion is accepted once
    if not isinstance(jti, str) or not jti:
        raise fail("jti is required")
    marker = f"client-jti:{crypto.sha256_hex(client.client_id + chr(10) + jti)}"
    if not await core.storage.commit([Put(marker, b"1", exp + ASSERTION_SKEW)], expect={marker: None}):
        raise fail("the assertion was already used (jti replay)")

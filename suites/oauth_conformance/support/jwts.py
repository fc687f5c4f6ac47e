"""Minting the JWTs the suites present (ID-JAGs from the test IdP, client assertions), and reading
the claims of the JWTs a target issues.

Every knob a negative test needs is a keyword: another ``typ``/``alg``/``kid``, a claim
overridden or omitted, another signing key, a tampered payload, ``alg=none``.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

import orjson
from joserfc import jwt

from oauth_conformance.trust import keys as testkeys

IDJAG_TYP = "oauth-id-jag+jwt"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_OMIT = object()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(
    claims: dict[str, Any],
    *,
    key: str = testkeys.IDP_RS256,
    typ: str | None = IDJAG_TYP,
    alg: str | None = None,
    kid: str | object | None = _OMIT,
    extra_header: dict[str, Any] | None = None,
) -> str:
    private = testkeys.private_key(key)
    algorithm = alg or ("ES256" if private.key_type == "EC" else "RS256")
    header: dict[str, Any] = {"alg": algorithm}
    if typ is not None:
        header["typ"] = typ
    chosen_kid = private.kid if kid is _OMIT else kid
    if chosen_kid is not None:
        header["kid"] = chosen_kid
    header.update(extra_header or {})
    if algorithm == "none":
        return f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}."
    return jwt.encode(header, claims, private, algorithms=[algorithm])


def tamper(token: str, **changes: Any) -> str:
    """The same signature over changed claims (a forgery the target must refuse)."""
    head, body, signature = token.split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    return f"{head}.{_b64(orjson.dumps(claims))}.{signature}"


def idjag_claims(
    *,
    issuer: str,
    audience: str | list[str],
    client_id: str,
    subject: str = "alice@conformance.test",
    lifetime: int = 120,
    now: float | None = None,
    resource: str | None = None,
    scope: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    at = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "client_id": client_id,
        "jti": secrets.token_urlsafe(16),
        "iat": at,
        "exp": at + lifetime,
        "email": subject,
    }
    if resource is not None:
        claims["resource"] = resource
    if scope is not None:
        claims["scope"] = scope
    for name, value in overrides.items():
        if value is _OMIT or value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def client_assertion(
    client_id: str, audience: str, *, lifetime: int = 120, key: str = testkeys.CLIENT_RS256, **overrides: Any
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + lifetime,
    }
    claims.update({k: v for k, v in overrides.items() if v is not None})
    return sign(claims, key=key, typ=None)


OMIT = _OMIT


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT, read without verifying it (None: the token is opaque to the client)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    return claims if isinstance(claims, dict) else None

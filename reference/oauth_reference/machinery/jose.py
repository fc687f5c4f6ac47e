"""JWT checks shared by ID-JAG assertions and ``private_key_jwt`` client assertions.

Signatures are verified with joserfc against a JWK Set and an explicit algorithm allowlist
(never ``none``, never a MAC); JWK Sets fetched from a URI are cached for a while and fetched
again, at most every 30 seconds, when a token names a key the cached set lacks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from joserfc import jws
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from oauth_reference.machinery.fetch import FetchError
from oauth_reference.machinery.fetch import FetchPolicy
from oauth_reference.machinery.fetch import fetch

# Never none, never a MAC (RFC7523-3-SIG).
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
JWKS_LIMIT = 64 * 1024
REFRESH_COOLDOWN = 30.0


class JoseCheckError(Exception):
    """The token is not acceptable; ``reason`` says why (never contains the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def unverified(token: str, *, limit: int = 16384) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, not yet verified."""
    # RFC7523-3-VALID-JWT: undecodable parts, non-object claims and critical extensions are refused.
    if len(token) > limit:
        raise JoseCheckError("the JWT is too large")
    if token.count(".") != 2 or not all(token.split(".")):
        raise JoseCheckError("the JWT is not a compact JWS")
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        claims = orjson.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError, orjson.JSONDecodeError):
        raise JoseCheckError("the JWT cannot be parsed") from None
    header = dict(obj.protected)
    if not isinstance(claims, dict):
        raise JoseCheckError("the JWT claims are not a JSON object")
    if "crit" in header or header.get("b64") is False:
        raise JoseCheckError("the JWT uses a critical header extension")
    return header, claims


def public_jwks_problem(jwks: object) -> str | None:
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        return "jwks must be a JWK Set with at least one key"
    for key in jwks["keys"]:
        if not isinstance(key, dict) or "kty" not in key:
            return "every key in jwks must be a JWK object"
        if PRIVATE_MEMBERS & set(key):
            return "jwks must hold public keys only"
    return None


def verify(token: str, jwks: dict[str, Any], algorithms: tuple[str, ...]) -> dict[str, Any]:
    """Verify the signature; returns the claims."""
    # RFC7523-3-SIG, RFC7523-3-CLIENT-SIG
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        decoded = jwt.decode(token, keys, algorithms=[a for a in algorithms if a in ASYMMETRIC])
    except (JoseError, ValueError, TypeError, KeyError):
        raise JoseCheckError("the JWT signature does not verify with the trusted keys") from None
    return dict(decoded.claims)


@dataclass
class _CachedKeys:
    jwks: dict[str, Any]
    until: float
    fetched_at: float


class JwksCache:
    """JWK Sets by URI, kept ``ttl`` seconds; a missing ``kid`` forces one early refetch."""

    def __init__(self, ttl: float = 300.0) -> None:
        self.ttl = ttl
        self._sets: dict[str, _CachedKeys] = {}

    async def get(self, uri: str, policy: FetchPolicy, kid: str | None = None) -> dict[str, Any]:
        if kid is not None and not isinstance(kid, str):  # RFC 7515 section 4.1.4: a string
            raise JoseCheckError("the kid header parameter is not a string")
        now = time.monotonic()
        cached = self._sets.get(uri)
        if cached is not None and cached.until > now:
            known = {k.get("kid") for k in cached.jwks.get("keys", []) if isinstance(k, dict)}
            if kid is None or kid in known or now - cached.fetched_at < REFRESH_COOLDOWN:
                return cached.jwks
        try:
            fetched = await fetch(uri, limit=JWKS_LIMIT, policy=policy, accept="application/json")
        except FetchError as exc:
            raise JoseCheckError(f"the JWK Set could not be fetched: {exc.reason}") from None
        if fetched.status != 200:
            raise JoseCheckError(f"the JWK Set could not be fetched: HTTP {fetched.status}")
        try:
            jwks = orjson.loads(fetched.body)
        except orjson.JSONDecodeError:
            raise JoseCheckError("the JWK Set is not JSON") from None
        problem = public_jwks_problem(jwks)
        if problem:
            raise JoseCheckError(f"the JWK Set is not acceptable: {problem}")
        self._sets[uri] = _CachedKeys(jwks, now + self.ttl, now)
        return jwks  # type: ignore[no-any-return]


def audience_list(aud: object) -> list[str] | None:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list) and all(isinstance(a, str) for a in aud):
        return list(aud)
    return None


def number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JoseCheckError(f"the {name} claim is not a number")
    return float(value)

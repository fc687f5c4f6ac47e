"""RFC 9449: OAuth 2.0 Demonstrating Proof of Possession (DPoP).

https://www.rfc-editor.org/rfc/rfc9449

With ``dpop_enabled``, a token request that carries a DPoP proof gets a token bound to the proof's
key (``token_type`` DPoP, section 5); a public client's refresh token is bound too, and the API
routes take a bound token only with the DPoP scheme and a proof for it (section 7). A code can be
bound to a key at the authorization endpoint (``dpop_jkt``, section 10) or by a proof at the PAR
endpoint (section 10.1). With ``dpop_nonce``, every proof must carry a nonce this server made
(section 8): nonces are a time bucket and its HMAC, so any of the provider's nonces of the last
two buckets is accepted without state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import import_key

from oauth_reference.core import Core
from oauth_reference.errors import InvalidDpopProofError
from oauth_reference.errors import UseDpopNonceError
from oauth_reference.machinery import crypto
from oauth_reference.machinery.asgi import Request
from oauth_reference.machinery.jose import PRIVATE_MEMBERS
from oauth_reference.machinery.jose import JoseCheckError
from oauth_reference.machinery.jose import number
from oauth_reference.machinery.jose import unverified
from oauth_reference.machinery.storage import Put

# RFC9449-5.1-ALGS, RFC9449-4.3-ALG: asymmetric algorithms only, never none or a MAC.
ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")
PROOF_LIFETIME = 300  # RFC9449-11.1-LIFETIME: seconds a proof is accepted after its iat
FUTURE_SKEW = 60  # a proof's iat may be this far ahead of our clock
NONCE_PERIOD = 300  # a nonce is good for this bucket and the next
MAX_JTI = 256  # RFC 9449 section 11.1: unnecessarily large jti values are refused
_TOKEN68 = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


@dataclass(frozen=True, slots=True)
class Proof:
    """A checked DPoP proof: the thumbprint of its key (RFC 7638) and its claims."""

    jkt: str
    claims: dict[str, Any]


def enabled(core: Core) -> bool:
    """Proofs are read where DPoP is on, and where ID-JAGs (which may be key-bound) are accepted."""
    return core.options.dpop_enabled or core.options.enterprise_managed_authorization is not None


def access_token_hash(token: str) -> str:
    """The ath claim: base64url(SHA-256(ASCII(token))) without padding (RFC 9449 section 4.2)."""
    digest = hashlib.sha256(token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def request_url(request: Request) -> str:
    """The URL a proof's htu must name: this request's, without query and fragment."""
    return normalized(request.origin + request.path)


def normalized(url: str) -> str:
    """Syntax- and scheme-based normalization before comparing htu (RFC 9449 section 4.3)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("https", 443), ("http", 80)) else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal
        netloc = f"[{host}]" if port is None or (scheme, port) in (("https", 443), ("http", 80)) else f"[{host}]:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


# ------------------------------------------------------------------------------- nonces (8, 9)
def new_nonce(core: Core) -> str:
    return _nonce(core, int(core.now() // NONCE_PERIOD))


def _nonce(core: Core, bucket: int) -> str:
    mac = hmac.new(core.dpop_nonce_key, str(bucket).encode("ascii"), hashlib.sha256).digest()
    return f"{bucket}.{base64.urlsafe_b64encode(mac[:18]).decode('ascii')}"


def nonce_is_fresh(core: Core, value: object) -> bool:
    if not isinstance(value, str) or "." not in value:
        return False
    bucket = int(core.now() // NONCE_PERIOD)
    return any(hmac.compare_digest(value, _nonce(core, b)) for b in (bucket, bucket - 1))


def nonce_headers(core: Core) -> dict[str, str]:
    """The one DPoP-Nonce header of an answer (RFC9449-8-ONE-NONCE-HEADER), when nonces are on."""
    return {"DPoP-Nonce": new_nonce(core)} if core.options.dpop_nonce else {}


# --------------------------------------------------------------------------------- proofs (4.3)
async def check_proof(
    core: Core, request: Request, *, url: str | None = None, access_token: str | None = None, status: int = 400
) -> Proof | None:
    """The request's DPoP proof, checked as section 4.3 lists; ``None`` when it has none.

    ``status`` is 400 at the authorization server and 401 at a protected resource (section 7.1).
    """
    count = request.header_count("dpop")
    if count == 0:
        return None

    def bad(reason: str) -> InvalidDpopProofError:
        return InvalidDpopProofError(f"invalid DPoP proof: {reason}", status=status, headers=nonce_headers(core))

    if count > 1:  # RFC9449-4.3-SINGLE-HEADER
        raise bad("more than one DPoP header")
    value = (request.header("dpop") or "").strip()
    if not _TOKEN68.match(value):  # RFC9449-4.3-WELL-FORMED
        raise bad("the DPoP header is not a single JWT")
    try:
        header, claims = core.faults.wrap("dpop-proof-read", unverified)(value, limit=8192)
    except JoseCheckError as exc:  # RFC9449-4.3-WELL-FORMED
        raise bad(exc.reason) from None
    if header.get("typ") != "dpop+jwt":  # RFC9449-4.3-TYP
        raise bad("typ must be dpop+jwt")
    alg = header.get("alg")
    if alg not in ALGORITHMS:  # RFC9449-4.3-ALG
        raise bad(f"alg must be one of {' '.join(ALGORITHMS)}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or "kty" not in jwk:
        raise bad("the jwk header is missing")
    if PRIVATE_MEMBERS & set(jwk):  # RFC9449-4.3-NO-PRIVATE-KEY
        raise bad("the jwk header holds a private key")
    try:  # RFC9449-4.3-SIGNATURE: verified with the key in the proof itself
        jkt = core.faults.wrap("dpop-proof-signature", verified_key)(value, jwk, str(alg))
    except (JoseError, ValueError, TypeError, KeyError):
        raise bad("the signature does not verify with the jwk header") from None
    jti, htm, htu = claims.get("jti"), claims.get("htm"), claims.get("htu")
    try:
        iat = number(claims, "iat")
    except JoseCheckError as exc:
        raise bad(exc.reason) from None
    # RFC9449-4.3-CLAIMS
    if not (isinstance(jti, str) and jti and isinstance(htm, str) and isinstance(htu, str) and iat is not None):
        raise bad("jti, htm, htu and iat are required")
    if len(jti) > MAX_JTI:
        raise bad("jti is too long")
    if htm != request.method:  # RFC9449-4.3-HTM
        raise bad("htm does not match the request method")
    try:  # RFC9449-4.3-HTU: ignoring query and fragment, after normalization
        matches = normalized(htu) == normalized(url or request_url(request))
    except ValueError:
        matches = False
    if not matches:
        raise bad("htu does not match the request URL")
    now = core.now()
    if iat < now - PROOF_LIFETIME or iat > now + FUTURE_SKEW:  # RFC9449-11.1-LIFETIME
        raise bad("the proof is too old or too far ahead")
    # RFC9449-8-NONCE: once nonces are on, only a fresh one of ours will do; the answer says which.
    if core.options.dpop_nonce and not nonce_is_fresh(core, claims.get("nonce")):
        message = "a DPoP nonce is required" if "nonce" not in claims else "the DPoP nonce is not a fresh one"
        raise UseDpopNonceError(message, status=status, headers=nonce_headers(core))
    if access_token is not None and claims.get("ath") != access_token_hash(access_token):
        raise bad("ath does not match the access token")  # RFC9449-7.1-RESOURCE-CHECKS
    # RFC9449-11.1-JTI-REPLAY: each jti once per key and URL, for as long as the proof would be accepted.
    marker = "dpop-jti:" + crypto.sha256_hex(f"{jkt}\n{normalized(htu)}\n{jti}")
    if not await core.storage.commit([Put(marker, b"1", now + PROOF_LIFETIME + FUTURE_SKEW)], expect={marker: None}):
        raise bad("the proof was already used")
    return Proof(jkt, claims)


def verified_key(value: str, jwk: dict[str, Any], alg: str) -> str:
    """The RFC 7638 thumbprint of ``jwk``, once the proof ``value`` verifies with it."""
    key = import_key(jwk)
    jwt.decode(value, key, algorithms=[alg])
    return str(key.thumbprint())


def challenge(error: str | None = None, description: str | None = None, *, scope: list[str] | None = None) -> str:
    """A DPoP challenge (RFC9449-7.1-CHALLENGE): the accepted algs, the scope an ``insufficient_scope``
    error needs (RFC 6750 section 3's attribute, which RFC 9449 section 7.1 keeps), and the error
    when there is one."""
    parts = [f'DPoP algs="{" ".join(ALGORITHMS)}"']
    if scope:
        parts.append(f'scope="{" ".join(scope)}"')
    if error:
        parts.append(f'error="{error}"')
        if description:
            parts.append(f'error_description="{description.replace(chr(34), chr(39))}"')
    return ", ".join(parts)

"""RFC 7636: Proof Key for Code Exchange by OAuth Public Clients.

https://www.rfc-editor.org/rfc/rfc7636
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Final

from oauth_reference.machinery.crypto import equal

# RFC 7636 section 4.1: code-verifier = 43*128unreserved; section 4.2: the challenge has the same
# alphabet and length (an S256 challenge is exactly 43 characters of base64url).
VERIFIER: Final = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
METHODS: Final = ("S256", "plain")  # RFC7636-4.2-S256-MTI; plain only with allow_plain_pkce


def s256(verifier: str) -> str:
    """RFC7636-4.2-S256-MTI: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def valid_verifier(verifier: str) -> bool:
    return bool(VERIFIER.match(verifier))  # RFC7636-4.1-VERIFIER-SYNTAX


def valid_challenge(challenge: str, method: str) -> bool:
    # RFC7636-4.2-CHALLENGE-SYNTAX
    if method == "S256":
        return len(challenge) == 43 and bool(VERIFIER.match(challenge))
    return bool(VERIFIER.match(challenge))


def verify(verifier: str, challenge: str, method: str) -> bool:
    """RFC7636-4.6-S256-VERIFY: recompute the challenge from the verifier, compare in constant time."""
    if not valid_verifier(verifier):  # RFC7636-4.1-VERIFIER-SYNTAX, even when the hash would match
        return False
    computed = s256(verifier) if method == "S256" else verifier  # plain: RFC7636-4.6-PLAIN-VERIFY
    return equal(computed, challenge)

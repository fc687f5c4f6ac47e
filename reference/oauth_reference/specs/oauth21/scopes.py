"""Scope strings (RFC 6749 section 3.3): space-delimited tokens of %x21 / %x23-5B / %x5D-7E."""

from __future__ import annotations

import re

from oauth_reference.errors import InvalidScopeError

# Also the characters a Bearer challenge's scope may carry (RFC6750-3-ATTRIBUTE-CHARS).
_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")


def is_scope_token(token: str) -> bool:
    return bool(_TOKEN.match(token))


def parse_scope(value: str | None) -> list[str]:
    """Split a scope parameter into unique tokens, in order; a malformed token is ``invalid_scope``."""
    if not value:
        return []
    out: list[str] = []
    for token in value.split(" "):
        if not token:
            continue
        if not is_scope_token(token):
            raise InvalidScopeError("the scope contains a malformed scope token")
        if token not in out:
            out.append(token)
    return out


def narrow(requested: list[str], granted: list[str]) -> list[str]:
    """OAuth 2.1 sections 4.1.3 and 4.3.1: a token request may narrow the scope, never widen it."""
    extra = [s for s in requested if s not in granted]
    if extra:
        raise InvalidScopeError(f"scope exceeds what was granted: {' '.join(extra)}")  # OAUTH21-4.3.1-RT-SCOPE
    return requested

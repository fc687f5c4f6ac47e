"""RFC 8707: Resource Indicators for OAuth 2.0.

https://www.rfc-editor.org/rfc/rfc8707

A ``resource`` value must be an absolute URI without a fragment (section 2). The parameter may
repeat (section 2: a token "intended to be used at multiple resources"). The provider serves the
configured protected resource and the hosts of its full-URL API routes, and compares requested
values with them after lowercasing scheme and host and treating an empty path as ``/``.

A token is bound to the resources its authorization or token request named; a grant that never
named one yields tokens bound to none, good on every API route of the provider (as in the seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from oauth_reference.errors import InvalidTargetError

# URIs are parsed once: the same few (the resource, the API URLs) come back on every request.
# Only short ones are remembered, in a bounded cache, since request paths are the client's choice.
_CACHED_LENGTH = 512


def _canonical(uri: str) -> str:
    parts = urlsplit(uri)
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if (scheme, parts.port) in (("https", 443), ("http", 80)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


_canonical_cached = lru_cache(maxsize=1024)(_canonical)


def canonical(uri: str) -> str:
    """Scheme and host lowercased, the default port dropped, an empty path as ``/``, no fragment.

    MCP-RES-CANONICAL: an upper-case scheme or host names the same resource.
    """
    return _canonical_cached(uri) if len(uri) <= _CACHED_LENGTH else _canonical(uri)


def _origin_and_path(uri: str) -> tuple[str, str, str]:
    parts = urlsplit(canonical(uri))
    return parts.scheme, parts.netloc, parts.path


_origin_and_path_cached = lru_cache(maxsize=1024)(_origin_and_path)


def parse_resource(value: str) -> str:
    """A requested resource in canonical form; ``invalid_target`` if it is not an absolute URI.

    RFC8707-2.1-SYNTAX: a relative reference or a fragment is refused.
    """
    if any(ord(ch) < 0x21 or ch in '"\\<>' for ch in value) or "#" in value:
        raise InvalidTargetError("the resource must be an absolute URI without a fragment")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise InvalidTargetError("the resource must be an absolute URI") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise InvalidTargetError("the resource must be an absolute http or https URI")
    return canonical(value)


def select_resources(values: list[str], served: Sequence[str]) -> list[str]:
    """The resources a request names, canonical and without repeats ([] when it names none).

    RFC8707-2.1-INVALID-TARGET: each must be one of ``served`` or lie below one (same origin, path
    at or under its path): RFC 9728 section 3.3 has a client that found the metadata through a
    challenge use the URL it requested as the resource, so a request URL under the API is a
    resource of its own.
    """
    chosen = list(dict.fromkeys(parse_resource(v) for v in values))
    for resource in chosen:
        # MCP-RES-PARAM: the configured resource is accepted
        if not any(within(resource, s) for s in served):
            raise InvalidTargetError("the requested resource is not served by this authorization server")
    return chosen


def matches_granted(requested: str, granted: Sequence[str], *, origin_only: bool = False) -> bool:
    """Whether a token request may name ``requested`` for a grant bound to ``granted``.

    RFC 8707 section 2.2: a resource the authorization request named, or one below it. With
    ``origin_only`` (the seed's ``resourceMatchOriginOnly``) the same origin is enough.
    """
    if any(within(requested, g) for g in granted):
        return True
    return origin_only and any(same_origin(requested, g) for g in granted)


def same_origin(a: str, b: str) -> bool:
    return _split(a)[:2] == _split(b)[:2]


def as_claim(resources: Sequence[str] | None) -> str | list[str] | None:
    """Resources as a response member or claim: one as a string, several as an array."""
    if not resources:
        return None
    return resources[0] if len(resources) == 1 else list(resources)


def within(resource: str, configured: str) -> bool:
    """``resource`` is ``configured`` or lies below it (a query only on the configured resource itself)."""
    if urlsplit(canonical(resource)).query and canonical(resource) != canonical(configured):
        return False
    return covers(configured, resource)


def covers(audience: str, url: str) -> bool:
    """Whether a token for ``audience`` may be used at ``url``: same origin, path at or below."""
    a_scheme, a_netloc, a_path = _split(audience)
    u_scheme, u_netloc, u_path = _split(url)
    if (a_scheme, a_netloc) != (u_scheme, u_netloc):
        return False
    base = a_path.rstrip("/")
    return u_path == base or u_path.startswith(base + "/") or base == ""


def _split(uri: str) -> tuple[str, str, str]:
    return _origin_and_path_cached(uri) if len(uri) <= _CACHED_LENGTH else _origin_and_path(uri)

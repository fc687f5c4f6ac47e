"""RFC 8707: Resource Indicators for OAuth 2.0.

https://www.rfc-editor.org/rfc/rfc8707

A ``resource`` value must be an absolute URI without a fragment (section 2); the provider serves
one protected resource and compares requested values with it after lowercasing scheme and host
and treating an empty path as ``/``.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from .errors import InvalidTargetError


def canonical(uri: str) -> str:
    parts = urlsplit(uri)
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if (scheme, parts.port) in (("https", 443), ("http", 80)):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def parse_resource(value: str) -> str:
    """A requested resource in canonical form; ``invalid_target`` if it is not an absolute URI."""
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


def select_resource(values: list[str], configured: str) -> str | None:
    """The one resource a request names (``None`` when it names none); RFC8707-2-INVALID-TARGET.

    The configured resource or any resource below it (same origin, path at or under its path):
    RFC 9728 section 3.3 has a client that found the metadata through a challenge use the URL
    it requested as the resource, so a request URL under the API is a resource of its own.
    """
    if not values:
        return None
    chosen = {parse_resource(v) for v in values}
    if len(chosen) > 1:
        raise InvalidTargetError("this server issues tokens for one resource at a time")
    (resource,) = chosen
    if not within(resource, configured):
        raise InvalidTargetError("the requested resource is not served by this authorization server")
    return resource


def within(resource: str, configured: str) -> bool:
    """``resource`` is ``configured`` or lies below it (a query only on the configured resource itself)."""
    if urlsplit(canonical(resource)).query and canonical(resource) != canonical(configured):
        return False
    return covers(configured, resource)


def covers(audience: str, url: str) -> bool:
    """Whether a token for ``audience`` may be used at ``url``: same origin, path at or below."""
    a = urlsplit(canonical(audience))
    u = urlsplit(canonical(url))
    if (a.scheme, a.netloc) != (u.scheme, u.netloc):
        return False
    base = a.path.rstrip("/")
    return u.path == base or u.path.startswith(base + "/") or base == ""

"""Redirect URI rules: which URIs a client may register, and how a request's URI must match.

OAuth 2.1 section 2.3: redirect URIs are absolute, have no fragment, and are compared to the
registered ones by simple string comparison; section 8.4.2 (native apps): for loopback redirect
URIs any port is allowed at request time. Remote ``http`` is refused; ``https``, loopback
``http`` and private-use schemes (RFC 8252 section 7.1, reverse-domain names) are allowed.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

_DANGEROUS = frozenset({"javascript", "data", "vbscript", "file", "mailto", "blob", "about", "ftp", "ws", "wss"})
_LOOPBACK = re.compile(
    r"^http://(?P<host>localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::(?P<port>\d{1,5}))?(?P<rest>[/?][^#]*)?$"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be a redirect URI, or ``None`` when it can."""
    if not uri or _CONTROL_OR_SPACE.search(uri):
        return "a redirect URI must not be empty or contain spaces or control characters"
    if "#" in uri:
        return "a redirect URI must not contain a fragment"
    scheme, sep, _ = uri.partition(":")
    if not sep or not _SCHEME.match(scheme):
        return "a redirect URI must be absolute"
    if scheme != scheme.lower():
        return "a redirect URI's scheme must be lower case"
    if scheme in _DANGEROUS:
        return f"the {scheme}: scheme is not allowed for redirect URIs"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return "a redirect URI must be a valid URI"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return "a redirect URI must name a host"
        if "@" in parts.netloc:
            return "a redirect URI must not contain user information"
        if scheme == "http" and not is_loopback_host(parts.hostname):  # MCP-COMM-REDIRECT
            return "http redirect URIs are allowed only for loopback hosts; use https"
        return None
    if "." not in scheme:
        return "a private-use redirect URI scheme must be a reverse domain name (RFC 8252 section 7.1)"
    return None


def redirect_uri_matches(requested: str, registered: str) -> bool:
    """Exact match, except that loopback ``http`` URIs may differ in port (OAuth 2.1 section 8.4.2)."""
    if requested == registered:  # OAUTH21-2.3.1-EXACT-MATCH
        return True
    # OAUTH21-8.4.2-LOOPBACK-PORT, OAUTH21-4.1.1-LOCALHOST-PORT: only a loopback port may differ
    want = _LOOPBACK.match(registered)
    got = _LOOPBACK.match(requested)
    if want is None or got is None:
        return False
    return want["host"] == got["host"] and (want["rest"] or "") == (got["rest"] or "")


def http_url_problem(uri: str) -> str | None:
    """Why ``uri`` is not an absolute http(s) URL (for client_uri, logo_uri and friends)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "must be a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL"
    if any(ord(ch) < 0x21 for ch in uri):
        return "must not contain spaces or control characters"
    return None

"""Cookies and same-origin redirects for the raw load generator (the part of a browser it needs).

A provider whose ``/authorize`` approves through its own interaction pages (oidc-provider: a
``303`` to ``/interaction/<uid>``, which sets cookies scoped to that path, then back to
``/auth/<uid>``) can only be driven by a client that keeps cookies and follows redirects on the
provider's origin. :class:`CookieJar` keeps the cookies of one origin by the rules of RFC 6265
that matter there (name and path, default path, path matching, deletion by ``Max-Age`` or a past
``Expires``); :func:`same_origin_target` says whether a ``Location`` stays on that origin.

https://www.rfc-editor.org/rfc/rfc6265
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from urllib.parse import urlsplit

REDIRECTS = frozenset({301, 302, 303, 307, 308})


def default_path(request_path: str) -> str:
    """RFC 6265 section 5.1.4: the directory of the request path."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 section 5.1.4: the cookie path is the request path or a directory of it."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def _expired(attribute: str, value: str, now: float) -> bool | None:
    """Whether a Max-Age or Expires attribute deletes the cookie; None for other attributes."""
    if attribute == "max-age":
        try:
            return int(value) <= 0
        except ValueError:
            return None
    if attribute == "expires":
        try:
            return parsedate_to_datetime(value).timestamp() <= now
        except (TypeError, ValueError):
            return None
    return None


class CookieJar:
    """The cookies one client holds for one origin, keyed by name and path."""

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str], str] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def update(self, set_cookies: Iterable[str], request_path: str) -> None:
        """Store (or delete) the cookies of a response to a request for ``request_path``."""
        now = time.time()
        for line in set_cookies:
            pair, *attributes = line.split(";")
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                continue  # RFC 6265 section 5.2: ignore a cookie without a name-value pair
            path = default_path(urlsplit(request_path).path)
            verdicts: dict[str, bool] = {}
            for attribute in attributes:
                key, _, raw = attribute.partition("=")
                key, raw = key.strip().lower(), raw.strip()
                if key == "path" and raw.startswith("/"):
                    path = raw
                else:
                    verdict = _expired(key, raw, now)
                    if verdict is not None:
                        verdicts[key] = verdict
            # Section 5.3 step 3: Max-Age, when present, wins over Expires.
            if verdicts.get("max-age", verdicts.get("expires", False)):
                self._cookies.pop((name, path), None)
            else:
                self._cookies[(name, path)] = value.strip()

    def header(self, request_path: str) -> str | None:
        """The ``Cookie`` header for a request to ``request_path`` (longer paths first), or None."""
        if not self._cookies:
            return None
        path = request_path.split("?", 1)[0]
        matching = [(len(p), n, v) for (n, p), v in self._cookies.items() if path_matches(path, p)]
        if not matching:
            return None
        matching.sort(key=lambda item: -item[0])  # section 5.4 step 2
        return "; ".join(f"{n}={v}" for _, n, v in matching)


def same_origin_target(origin: str, current: str, location: str) -> str | None:
    """The request target (path and query) a redirect to ``location`` asks for, when it stays
    on ``origin``; None when it leaves (for instance for the client's redirect URI).

    ``current`` is the target the redirect answered, against which a relative ``location`` resolves.
    """
    absolute = urljoin(origin + current, location)
    parts = urlsplit(absolute)
    base = urlsplit(origin)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

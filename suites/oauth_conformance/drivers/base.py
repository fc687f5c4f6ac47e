"""What every consent driver shares: the callback, the stop, the protocol, the HTTP walker.

A driver starts at an authorization request URL and stops at the first redirect to the test
client's redirect URI, which it never fetches: redirect-validation tests read ``Location``
themselves. It follows only redirects within the authorization server's origins (and those the
profile allows), so it can never be bounced to a foreign site.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from http.cookiejar import CookieJar
from typing import Any
from typing import Protocol
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import httpx

from oauth_conformance.http import tls_context
from oauth_conformance.profile import Profile
from oauth_conformance.redaction import redacted_repr


class DriverStopped(Exception):
    """The driver could not reach the redirect URI; ``response`` is where it stopped."""

    def __init__(self, reason: str, response: httpx.Response | None = None, *, unlock: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = response
        self.unlock = unlock


@dataclass(frozen=True, slots=True)
class Callback:
    """The redirect back to the client: the URL and its response parameters."""

    location: str
    status: int
    query: dict[str, list[str]] = field(default_factory=dict)
    fragment: dict[str, list[str]] = field(default_factory=dict)
    hops: tuple[str, ...] = ()

    def __repr__(self) -> str:  # secrets masked: reprs reach assertion messages
        return redacted_repr(self)

    def first(self, name: str) -> str | None:
        values = self.query.get(name) or self.fragment.get(name)
        return values[0] if values else None


def parse_callback(location: str, status: int, hops: tuple[str, ...] = ()) -> Callback:
    parts = urlsplit(location)
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, []).append(v)
    fragment: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.fragment, keep_blank_values=True):
        fragment.setdefault(k, []).append(v)
    return Callback(location, status, query, fragment, hops)


def is_callback(location: str, redirect_uri: str) -> bool:
    a, b = urlsplit(location), urlsplit(redirect_uri)
    return (a.scheme, a.netloc.lower(), a.path) == (b.scheme, b.netloc.lower(), b.path)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


Hooks = Mapping[str, Sequence[Callable[..., Any]]]  # httpx event hooks: "request", "response"


class ConsentDriver(Protocol):
    name: str

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        """Walk from the authorization URL to the redirect back to ``redirect_uri``."""
        ...


def keeping_cookies(driver: ConsentDriver) -> ConsentDriver | None:
    """The same driver, with one cookie jar for all its authorizations (a user agent that keeps its
    session), or None when the driver cannot share one (the browser driver)."""
    if not hasattr(driver, "jar"):
        return None
    kept = copy.copy(driver)
    kept.jar = CookieJar()
    return kept


class Walker:
    """Shared by the HTTP drivers: a cookie jar, bounded redirects within allowed origins."""

    def __init__(
        self,
        profile: Profile,
        allowed: set[str],
        hooks: Hooks,
        transport: httpx.BaseTransport | None,
        *,
        jar: CookieJar | None = None,
    ):
        self.profile = profile
        self.allowed = allowed | {o.lower() for o in profile.consent.allowed_origins}
        self.http = httpx.Client(
            follow_redirects=False,
            timeout=httpx.Timeout(15.0, connect=5.0),
            event_hooks={name: list(fns) for name, fns in hooks.items()},
            transport=transport,
            verify=tls_context(),  # one context for the run: building one reads the CA bundle
            cookies=jar,  # a shared jar keeps the user agent's session across authorizations
        )

    def close(self) -> None:
        self.http.close()

    def go(self, method: str, url: str, redirect_uri: str, hops: list[str], **kwargs: Any) -> httpx.Response | Callback:
        """Send a request a page asked for (a form, a link), unless it leaves the allowed origins."""
        if is_callback(url, redirect_uri):
            # The page itself points at the client (a link, a form): nothing is sent there.
            return parse_callback(url, 200, tuple(hops))
        if origin(url) not in self.allowed:
            raise DriverStopped(
                f"the page leads to {origin(url)}, which is neither the authorization server nor the client",
                unlock="consent.allowed_origins",
            )
        hops.append(url)
        return self.follow(self.http.request(method, url, **kwargs), redirect_uri, hops)

    def follow(self, response: httpx.Response, redirect_uri: str, hops: list[str]) -> httpx.Response | Callback:
        """Follow redirects from ``response`` until a page, or the callback."""
        for _ in range(self.profile.consent.max_redirects):
            if response.status_code not in (301, 302, 303, 307, 308):
                return response
            location = response.headers.get("location")
            if not location:
                raise DriverStopped(f"HTTP {response.status_code} without a Location header", response)
            target = urljoin(str(response.url), location)
            if is_callback(target, redirect_uri):
                return parse_callback(target, response.status_code, tuple(hops))
            if origin(target) not in self.allowed:
                raise DriverStopped(
                    f"redirected to {origin(target)}, which is neither the authorization server nor the client",
                    response,
                    unlock="consent.allowed_origins",
                )
            hops.append(target)
            method = "GET" if response.status_code in (301, 302, 303) else response.request.method
            response = self.http.request(method, target)
        raise DriverStopped(f"more than {self.profile.consent.max_redirects} redirects", response)

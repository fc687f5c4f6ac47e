"""The redirect driver: follow redirects with a cookie jar; for auto-approving test deployments."""

from __future__ import annotations

from http.cookiejar import CookieJar

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import Walker
from oauth_conformance.profile import Profile


class RedirectDriver:
    jar: CookieJar | None = None  # set by keeping_cookies: one session for every authorization
    name = "redirect"

    def __init__(self, profile: Profile, allowed: set[str], hooks: Hooks, transport: httpx.BaseTransport | None):
        self._args = (profile, allowed, hooks, transport)

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        if not approve and not self._args[0].consent.deny_params:
            raise DriverStopped(
                "the redirect driver cannot deny consent", unlock="consent.deny_params (or the form or browser driver)"
            )
        walker = Walker(*self._args, jar=self.jar)
        try:
            result = walker.follow(walker.http.get(url), redirect_uri, [])
        finally:
            walker.close()
        if isinstance(result, Callback):
            return result
        if result.status_code == 200 and "html" in result.headers.get("content-type", ""):
            raise DriverStopped(
                "the authorization server shows a page (login or consent) that the redirect driver cannot pass",
                result,
                unlock='consent.driver = "form" with [consent.form] fields',
            )
        raise DriverStopped(f"the authorization request ended with HTTP {result.status_code}", result)

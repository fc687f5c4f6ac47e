"""The python driver: your own function does the consent step.

``consent.callable = "package.module:function"``; the function is called as
``function(url, redirect_uri=..., approve=..., http=...)`` with an ``httpx.Client`` that keeps
cookies and records evidence, and returns the URL the server finally redirected to.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from http.cookiejar import CookieJar
from typing import Any

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import Walker
from oauth_conformance.drivers.base import is_callback
from oauth_conformance.drivers.base import parse_callback
from oauth_conformance.profile import Profile


def load_callable(path: str) -> Callable[..., Any]:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"consent.callable must look like package.module:function, not {path!r}")
    function = getattr(importlib.import_module(module_name), attr)
    if not callable(function):
        raise ValueError(f"{path} is not callable")
    return function  # type: ignore[no-any-return]


class PythonDriver:
    jar: CookieJar | None = None  # set by keeping_cookies: one session for every authorization
    name = "python"

    def __init__(self, profile: Profile, allowed: set[str], hooks: Hooks, transport: httpx.BaseTransport | None):
        assert profile.consent.callable
        self.function = load_callable(profile.consent.callable)
        self._args = (profile, allowed, hooks, transport)

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        walker = Walker(*self._args, jar=self.jar)
        try:
            final = self.function(url, redirect_uri=redirect_uri, approve=approve, http=walker.http)
        finally:
            walker.close()
        if not isinstance(final, str) or not is_callback(final, redirect_uri):
            raise DriverStopped(f"the consent callable returned {final!r}, not a URL at the redirect URI")
        return parse_callback(final, 302)

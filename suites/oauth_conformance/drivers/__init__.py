"""Consent drivers: how the harness gets a user agent through a target's login and consent.

``redirect`` follows redirects (auto-approving test deployments), ``form`` fills and submits the
login and consent forms it finds, ``browser`` drives Chromium through steps from the profile, and
``python`` calls your own function. The pieces they share are in :mod:`.base`.
"""

from __future__ import annotations

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import ConsentDriver
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import Walker
from oauth_conformance.drivers.base import is_callback
from oauth_conformance.drivers.base import keeping_cookies
from oauth_conformance.drivers.base import parse_callback
from oauth_conformance.drivers.browser import BrowserDriver
from oauth_conformance.drivers.chromium import Chromium
from oauth_conformance.drivers.form import FormDriver
from oauth_conformance.drivers.python import PythonDriver
from oauth_conformance.drivers.redirect import RedirectDriver
from oauth_conformance.profile import Profile


def make_driver(
    profile: Profile,
    allowed: set[str],
    hooks: Hooks,
    transport: httpx.BaseTransport | None = None,
    *,
    chromium: Chromium | None = None,
) -> ConsentDriver:
    """The profile's consent driver; the browser driver uses ``chromium`` (the run's browser) when given."""
    name = profile.consent.driver
    if name == "form":
        return FormDriver(profile, allowed, hooks, transport)
    if name == "browser":
        return BrowserDriver(profile, allowed, hooks, chromium)
    if name == "python":
        return PythonDriver(profile, allowed, hooks, transport)
    return RedirectDriver(profile, allowed, hooks, transport)


__all__ = [
    "BrowserDriver",
    "Callback",
    "Chromium",
    "ConsentDriver",
    "DriverStopped",
    "FormDriver",
    "Hooks",
    "PythonDriver",
    "RedirectDriver",
    "Walker",
    "is_callback",
    "keeping_cookies",
    "make_driver",
    "parse_callback",
]

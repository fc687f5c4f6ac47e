"""The browser driver: Playwright driving Chromium through steps from the profile.

An optional extra (``pip install 'oauth-conformance[browser]'``) using Debian's Chromium
(``/usr/bin/chromium``). Requests to the redirect URI are intercepted and never sent.
"""

from __future__ import annotations

import importlib.util
import os

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import is_callback
from oauth_conformance.drivers.base import origin
from oauth_conformance.drivers.base import parse_callback
from oauth_conformance.profile import BrowserStep
from oauth_conformance.profile import Profile
from oauth_conformance.profile import Secret

_CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browser_available(executable: str) -> str | None:
    """Why the browser driver cannot run, or ``None`` when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install 'oauth-conformance[browser]')"
    if not os.access(executable, os.X_OK):
        return f"no Chromium at {executable} (apt-get install chromium)"
    return None


class BrowserDriver:
    name = "browser"

    def __init__(self, profile: Profile, allowed: set[str]) -> None:
        self.profile = profile
        self.allowed = allowed | {o.lower() for o in profile.consent.allowed_origins}

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        settings = self.profile.consent.browser
        problem = browser_available(settings.executable)
        if problem:
            raise DriverStopped(f"the browser driver is unavailable: {problem}", unlock="consent.driver")
        steps = settings.steps if approve else settings.deny_steps
        if not steps:
            raise DriverStopped(
                "the profile gives no browser steps for this choice", unlock="consent.browser.deny_steps"
            )
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        captured: list[str] = []
        foreign: list[str] = []
        timeout_ms = int(settings.timeout * 1000)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=settings.executable, args=_CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()

                def route(route_obj, request):  # type: ignore[no-untyped-def]
                    target = request.url
                    if is_callback(target, redirect_uri):
                        captured.append(target)
                        route_obj.abort()
                    elif origin(target) not in self.allowed and request.is_navigation_request():
                        foreign.append(target)
                        route_obj.abort()
                    else:
                        route_obj.continue_()

                page.route("**/*", route)
                try:
                    page.goto(url, timeout=timeout_ms)
                except PlaywrightError:
                    if not captured:
                        raise
                for step in steps:
                    if captured:
                        break
                    self._run(page, step, timeout_ms)
                deadline_ms = timeout_ms
                while not captured and not foreign and deadline_ms > 0:
                    page.wait_for_timeout(100)
                    deadline_ms -= 100
            except PlaywrightError as exc:
                if not captured:
                    raise DriverStopped(f"the browser driver failed: {str(exc).splitlines()[0]}") from None
            finally:
                browser.close()
        if captured:
            return parse_callback(captured[0], 302)
        if foreign:
            raise DriverStopped(f"the browser was sent to {origin(foreign[0])}", unlock="consent.allowed_origins")
        raise DriverStopped("the browser never reached the redirect URI", unlock="consent.browser.steps")

    @staticmethod
    def _run(page, step: BrowserStep, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
        value = step.value.value() if isinstance(step.value, Secret) else step.value
        locator = page.locator(step.selector)
        if step.optional and locator.count() == 0:
            return
        if step.action == "fill":
            locator.fill(value or "", timeout=timeout_ms)
        elif step.action == "click":
            locator.click(timeout=timeout_ms)
        elif step.action == "press":
            locator.press(value or "Enter", timeout=timeout_ms)
        elif step.action == "wait":
            locator.wait_for(timeout=timeout_ms)

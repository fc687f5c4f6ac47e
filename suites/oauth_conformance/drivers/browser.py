"""The browser driver: Chromium, driven by Playwright through the profile's steps.

An optional extra (``pip install 'oauth-conformance[browser]'``) using Debian's Chromium
(``/usr/bin/chromium``); no browser is ever downloaded. One browser serves the whole run, with a
fresh context (no cookies) for each authorization. Every request the browser makes, redirect hops
included, is decided by the driver (see :mod:`.chromium`): the redirect URI and foreign origins
are never contacted, and the exchanges with the authorization server are recorded as evidence.

The steps run in order: ``login_steps`` first, then ``steps`` to approve or ``deny_steps`` to
deny. Each step waits for its element (a ``wait`` step for the state it names, ``attached`` by
default, so a hidden field will do) and gives up after ``consent.browser.timeout`` seconds; every
error names the step and its selector.
"""

from __future__ import annotations

import importlib.util
import os
import time
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import Any

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.chromium import Chromium
from oauth_conformance.drivers.chromium import Interception
from oauth_conformance.drivers.chromium import LaunchFailed
from oauth_conformance.drivers.chromium import StepRecord
from oauth_conformance.profile import BrowserStep
from oauth_conformance.profile import Profile
from oauth_conformance.profile import Secret

_SLICE = 0.25  # seconds: how often a waiting step looks whether the authorization is over anyway
_OPTIONAL_WAIT = 3.0  # seconds an optional step waits for its element before it is skipped
_GIVE_UP_AFTER = 2  # authorizations in which a step never matched, before it gets only...
_SHORT_LOOK = 2.0  # ...this many seconds
_SETTING = {
    "login": "consent.browser.login_steps",
    "approve": "consent.browser.steps",
    "deny": "consent.browser.deny_steps",
}
Phases = list[tuple[str, tuple[BrowserStep, ...]]]  # (login | approve | deny, its steps)


def browser_available(executable: str) -> str | None:
    """Why the browser driver cannot run, or ``None`` when it can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install 'oauth-conformance[browser]')"
    if not os.access(executable, os.X_OK):
        return f"no Chromium at {executable} (apt-get install chromium)"
    return None


class BrowserDriver:
    name = "browser"

    def __init__(
        self, profile: Profile, allowed: set[str], hooks: Hooks | None = None, chromium: Chromium | None = None
    ) -> None:
        self.profile = profile
        self.allowed = allowed | {o.lower() for o in profile.consent.allowed_origins}
        self.hooks: Hooks = hooks or {}
        self.chromium = chromium
        self._owns_chromium = chromium is None

    def close(self) -> None:
        """Close the browser, if this driver launched it (a shared one belongs to the run)."""
        if self._owns_chromium and self.chromium is not None:
            self.chromium.close()
            self.chromium = None

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        settings = self.profile.consent.browser
        problem = browser_available(settings.executable)
        if problem:
            raise DriverStopped(f"the browser driver is unavailable: {problem}", unlock="consent.driver")
        choice = "approve" if approve else "deny"
        phases: Phases = [("login", settings.login_steps), (choice, settings.steps if approve else settings.deny_steps)]
        if not phases[1][1] and not (approve and settings.login_steps):
            raise DriverStopped(f"the profile gives no browser steps to {choice}", unlock=_SETTING[choice])
        if self.chromium is None:
            self.chromium = Chromium(settings.executable)
        count = len(phases[0][1]) + len(phases[1][1])
        budget = settings.timeout * (count + 2) + 30.0
        try:
            return self.chromium.run(lambda browser: self._walk(browser, url, redirect_uri, phases), budget)
        except FuturesTimeout:
            raise DriverStopped(
                f"the browser did not finish the authorization within {budget:.0f}s", unlock="consent.browser.timeout"
            ) from None
        except LaunchFailed as exc:
            raise DriverStopped(f"Chromium did not start: {exc}", unlock="consent.browser.executable") from None

    # ------------------------------------------------------------- on the browser's thread
    def _walk(
        self, browser: Any, url: str, redirect_uri: str, phases: list[tuple[str, tuple[BrowserStep, ...]]]
    ) -> Callback:
        from playwright.sync_api import Error as PlaywrightError

        timeout = self.profile.consent.browser.timeout
        context = browser.new_context(service_workers="block")
        try:
            page = context.new_page()
            net = Interception(context, page, redirect_uri, self.allowed, self.hooks)
            try:
                page.goto(url, timeout=timeout * 1000, wait_until="domcontentloaded")
            except PlaywrightError as exc:
                if not net.finished():
                    raise DriverStopped(f"opening the authorization URL: {_first_line(exc)}", net.last_page) from None
            last = "opening the authorization URL"
            for phase, steps in phases:
                for number, step in enumerate(steps, 1):
                    if net.finished():
                        break
                    last = f"{phase} step {number} ({step.describe()})"
                    self._step(page, net, step, last, _SETTING[phase], timeout)
            deadline = time.monotonic() + timeout
            while not net.finished() and time.monotonic() < deadline:
                try:
                    page.wait_for_timeout(50)
                except PlaywrightError as exc:  # the page or the browser went away
                    raise DriverStopped(f"after {last}: {_first_line(exc)}", net.last_page) from None
            found = net.result()
            if found is not None:
                return found
            setting = _SETTING[phases[1][0]] if phases[1][1] else _SETTING["login"]
            raise DriverStopped(
                f"after {last}, the browser did not come back to the redirect URI within {timeout:g}s;"
                f" it shows {_where(page, net)}",
                net.last_page,
                unlock=setting,
            )
        finally:
            context.close()

    def _step(self, page: Any, net: Interception, step: BrowserStep, where: str, setting: str, timeout: float) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        locator = page.locator(step.selector)
        state = step.state if step.action == "wait" else "attached"
        limit = min(timeout, _OPTIONAL_WAIT) if step.optional else timeout
        record = self.chromium.steps if self.chromium is not None else StepRecord()
        misses = record.misses(where)
        if misses >= _GIVE_UP_AFTER:
            # A profile's step that never matched in this run will not match now: a short look
            # instead of the whole timeout, or a wrong selector costs every test its timeout.
            limit = min(limit, _SHORT_LOOK)
        deadline = time.monotonic() + limit
        # Wait in slices, so a step ends as soon as the authorization does (the redirect came,
        # or an error page), instead of waiting out its timeout on a page that will never match.
        while True:
            if net.finished():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if step.optional:
                    return
                record.missed(where)
                earlier = f" (nor in {misses} earlier authorizations: a short look this time)" if misses else ""
                raise DriverStopped(
                    f"{where}: nothing matched within {limit:g}s (waiting for it to be {state}){earlier};"
                    f" the browser shows {_where(page, net)}",
                    net.last_page,
                    unlock=setting,
                )
            try:
                locator.wait_for(state=state, timeout=min(_SLICE, remaining) * 1000)
                record.matched(where)
                break
            except PlaywrightTimeout:
                continue
            except PlaywrightError as exc:
                raise DriverStopped(f"{where}: {_first_line(exc)}", net.last_page, unlock=setting) from None
        value = step.value.value() if isinstance(step.value, Secret) else step.value
        remaining_ms = max(deadline - time.monotonic(), 1.0) * 1000
        try:
            if step.action == "fill":
                locator.fill(value or "", timeout=remaining_ms)
            elif step.action == "click":
                locator.click(timeout=remaining_ms)
            elif step.action == "press":
                locator.press(value or "Enter", timeout=remaining_ms)
        except PlaywrightError as exc:
            if net.finished():  # the action itself ended the authorization (a click that navigated away)
                return
            raise DriverStopped(f"{where}: {_first_line(exc)}", net.last_page, unlock=setting) from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _where(page: Any, net: Interception) -> str:
    from oauth_conformance.evidence import redact_url

    shown = net.last_page
    status = f"last page HTTP {shown.status_code}" if shown is not None else "no page yet"
    problem = f"; the driver could not pass on a request: {net.problems[0]}" if net.problems else ""
    refused = sorted(set(net.blocked))[:3]
    # A page that needs scripts or styles from another origin (a CDN) needs it allowed.
    blocked = f"; refused requests to {', '.join(refused)} (consent.allowed_origins)" if refused else ""
    return f"{redact_url(page.url)} ({status}){problem}{blocked}"

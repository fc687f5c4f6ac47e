"""The form driver: log in, then approve or deny, through the pages' HTML forms and links (no JavaScript).

Each page it reaches is one of two kinds:

- a **login page**: a form asks for credentials (a password box, or a box named in
  ``consent.form.fields``). The driver fills the fields in and submits the form with
  ``consent.form.login`` (default: the form's only button, or the one that says sign in or log in).
  The approve or deny choice is never made here, unless that form also carries both choices
  (one page that logs in and asks for consent, like the reference's demo).
- a **consent page**: the driver presses the control of the choice, ``consent.form.approve`` or
  ``consent.form.deny`` (default: the button or link whose words say so). A button submits its
  form; a link is followed.

Every stop names the setting that would get it further.
"""

from __future__ import annotations

from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.parse import urljoin

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import Walker
from oauth_conformance.drivers.pages import APPROVE_WORDS
from oauth_conformance.drivers.pages import DENY_WORDS
from oauth_conformance.drivers.pages import LOGIN_WORDS
from oauth_conformance.drivers.pages import BadSelector
from oauth_conformance.drivers.pages import Control
from oauth_conformance.drivers.pages import Form
from oauth_conformance.drivers.pages import ParsedPage
from oauth_conformance.drivers.pages import matches
from oauth_conformance.drivers.pages import parse_page
from oauth_conformance.drivers.pages import says
from oauth_conformance.profile import ButtonSpec
from oauth_conformance.profile import Profile
from oauth_conformance.profile import Secret

_NAMED_SETTING = {True: "consent.form.approve", False: "consent.form.deny"}


class FormDriver:
    jar: CookieJar | None = None  # set by keeping_cookies: one session for every authorization
    name = "form"

    def __init__(self, profile: Profile, allowed: set[str], hooks: Hooks, transport: httpx.BaseTransport | None):
        self.profile = profile
        self.settings = profile.consent.form
        self._args = (profile, allowed, hooks, transport)

    def _values(self) -> dict[str, str]:
        return {n: v.value() if isinstance(v, Secret) else v for n, v in self.settings.fields.items()}

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        walker = Walker(*self._args, jar=self.jar)
        hops: list[str] = []
        logged_in = False
        try:
            result = walker.follow(walker.http.get(url), redirect_uri, hops)
            for _ in range(self.settings.max_pages):
                if isinstance(result, Callback):
                    return result
                if result.status_code not in (200, 401) or "html" not in result.headers.get("content-type", ""):
                    raise DriverStopped(f"the consent step ended with HTTP {result.status_code}", result)
                control, step = self._next(parse_page(result.text), result, approve, logged_in)
                logged_in = logged_in or step == "login"
                result = self._press(walker, result, control, redirect_uri, hops)
            if isinstance(result, Callback):
                return result
            raise DriverStopped(
                f"still no redirect to the client after {self.settings.max_pages} pages",
                result,
                unlock="consent.form.max_pages",
            )
        finally:
            walker.close()

    # ----------------------------------------------------------------------- deciding
    def _next(self, page: ParsedPage, response: httpx.Response, approve: bool, logged_in: bool) -> tuple[Control, str]:
        """The control to press on this page, and which step that is (login, consent, or both)."""
        fields = set(self.settings.fields)
        login_forms = [f for f in page.forms if f.asks_for(fields)]
        if login_forms:
            form = max(login_forms, key=lambda f: sum(1 for n, _, _ in f.inputs if n in fields))
            choice = self._choose(page, response, approve, within=form)
            other = self._choose(page, response, not approve, within=form)
            if choice is not None and other is not None and choice is not other:
                self._check_credentials(form, response)
                return choice, "login and consent"
            if logged_in:
                raise DriverStopped(
                    "the login form came back after the driver submitted it: are the credentials right?",
                    response,
                    unlock="consent.form.fields",
                )
            self._check_credentials(form, response)
            return self._login_control(page, form, response), "login"
        if not page.forms and not page.links:
            raise DriverStopped(
                "the page has no form or link to use (a page built by JavaScript needs the browser driver)",
                response,
                unlock='consent.driver = "browser"',
            )
        chosen = self._choose(page, response, approve)
        if chosen is None:
            setting = _NAMED_SETTING[approve]
            spec = self.settings.approve if approve else self.settings.deny
            wanted = f"{setting} = {spec.describe()}" if spec else f"the words of {'approval' if approve else 'denial'}"
            raise DriverStopped(
                f"nothing on the consent page matches {wanted}; the page offers: {page.inventory()}",
                response,
                unlock=setting,
            )
        return chosen, "consent"

    def _choose(
        self, page: ParsedPage, response: httpx.Response, approve: bool, *, within: Form | None = None
    ) -> Control | None:
        """The control that makes the choice (within one form, or anywhere on the page)."""
        spec = self.settings.approve if approve else self.settings.deny
        setting = _NAMED_SETTING[approve]
        candidates = within.buttons if within is not None else page.controls()
        if spec is not None:
            return self._one(response, _matching(page, response, candidates, spec, setting), spec, setting)
        if approve:
            found = [c for c in candidates if c.kind == "button" and says(c, APPROVE_WORDS) and not says(c, DENY_WORDS)]
            buttons = [c for c in candidates if c.kind == "button"]
            if not found and within is None and len(buttons) == 1 and not says(buttons[0], DENY_WORDS):
                found = buttons  # a consent page with a single button: that button approves
        else:
            found = [c for c in candidates if says(c, DENY_WORDS)]
            # A "Deny" button and a "Cancel" link on one page: the button is the consent form's answer.
            found = [c for c in found if c.kind == "button"] or found
        return self._one(response, found, None, setting)

    @staticmethod
    def _one(response: httpx.Response, found: list[Control], spec: ButtonSpec | None, setting: str) -> Control | None:
        distinct = {(c.kind, c.name, c.value, c.text, c.href, id(c.form)) for c in found}
        if len(distinct) > 1:
            described = f"{setting} = {spec.describe()}" if spec else f"the words of {setting.rsplit('.', 1)[1]}"
            raise DriverStopped(
                f"{len(found)} controls match {described}: {'; '.join(c.describe() for c in found[:5])}",
                response,
                unlock=setting,
            )
        return found[0] if found else None

    def _login_control(self, page: ParsedPage, form: Form, response: httpx.Response) -> Control:
        spec = self.settings.login
        if spec is not None:
            found = _matching(page, response, form.buttons, spec, "consent.form.login")
            chosen = self._one(response, found, spec, "consent.form.login")
            if chosen is None:
                raise DriverStopped(
                    f"no button of the login form matches consent.form.login = {spec.describe()};"
                    f" it has: {'; '.join(c.describe() for c in form.buttons) or 'no button'}",
                    response,
                    unlock="consent.form.login",
                )
            return chosen
        if len(form.buttons) == 1:
            return form.buttons[0]
        saying = [c for c in form.buttons if says(c, LOGIN_WORDS) and not says(c, DENY_WORDS)]
        if len(saying) == 1:
            return saying[0]
        if not form.buttons:  # a form without a button is submitted as if Enter were pressed
            return Control("button", form.element, form=form)
        raise DriverStopped(
            f"the login form has {len(form.buttons)} buttons and none is plainly the one that logs in:"
            f" {'; '.join(c.describe() for c in form.buttons)}",
            response,
            unlock="consent.form.login",
        )

    def _check_credentials(self, form: Form, response: httpx.Response) -> None:
        given = set(self.settings.fields)
        for name, value, kind in form.inputs:
            if name in given:
                continue
            if kind == "password" or (name in form.required and not value and kind not in ("hidden", "checkbox")):
                raise DriverStopped(
                    f"the login form asks for {name!r}, which consent.form.fields does not give",
                    response,
                    unlock="consent.form.fields",
                )

    # ------------------------------------------------------------------------ acting
    def _press(
        self, walker: Walker, page: httpx.Response, control: Control, redirect_uri: str, hops: list[str]
    ) -> httpx.Response | Callback:
        base = str(page.url)
        if control.kind == "link":
            return walker.go("GET", urljoin(base, control.href or ""), redirect_uri, hops)
        form = control.form
        assert form is not None
        values = self._values()
        data = [(name, values.get(name, value)) for name, value, _ in form.inputs]
        if control.name and control.element is not form.element:
            data.append((control.name, control.value))
        # A button's formaction and formmethod override its form's (HTML).
        action = urljoin(base, str(control.element.get("formaction") or form.action or base))
        method = str(control.element.get("formmethod") or form.method).upper()
        if method == "POST":
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            return walker.go("POST", action, redirect_uri, hops, content=urlencode(data), headers=headers)
        return walker.go("GET", action, redirect_uri, hops, params=httpx.QueryParams(urlencode(data)))


def _matching(
    page: ParsedPage, response: httpx.Response, candidates: list[Control], spec: ButtonSpec, setting: str
) -> list[Control]:
    try:
        return [c for c in candidates if matches(c, spec, page)]
    except BadSelector as exc:
        raise DriverStopped(f"{setting}: {exc}", response, unlock=setting) from None

"""The form driver: fill and submit the login and consent forms it finds (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from urllib.parse import urlencode
from urllib.parse import urljoin

import httpx

from oauth_conformance.drivers.base import Callback
from oauth_conformance.drivers.base import DriverStopped
from oauth_conformance.drivers.base import Hooks
from oauth_conformance.drivers.base import Walker
from oauth_conformance.profile import ButtonSpec
from oauth_conformance.profile import Profile
from oauth_conformance.profile import Secret

_APPROVE_WORDS = (
    "approve",
    "allow",
    "accept",
    "authorize",
    "consent",
    "continue",
    "confirm",
    "yes",
    "grant",
    "sign in",
    "login",
    "log in",
    "submit",
)
_DENY_WORDS = ("deny", "decline", "reject", "cancel", "no")


@dataclass
class Button:
    name: str | None
    value: str
    label: str


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    inputs: list[tuple[str, str, str]] = field(default_factory=list)  # (name, value, type)
    buttons: list[Button] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._button: Button | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(
                    a.get("action", ""),
                    a.get("method", "get").upper(),
                    a.get("enctype", "application/x-www-form-urlencoded"),
                )
            )
            return
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                form.buttons.append(Button(a.get("name"), a.get("value", ""), a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a and a.get("name"):
                    form.inputs.append((a["name"], a.get("value", "on"), kind))
            elif a.get("name"):
                form.inputs.append((a["name"], a.get("value", ""), kind))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._button = Button(a.get("name"), a.get("value", ""), "")
            form.buttons.append(self._button)

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.label += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _matches(button: Button, spec: ButtonSpec | None, words: tuple[str, ...]) -> bool:
    if spec is not None:
        return button.name == spec.name and button.value == spec.value
    text = f"{button.name or ''} {button.value} {button.label}".lower()
    return any(w in text for w in words)


class FormDriver:
    jar: CookieJar | None = None  # set by keeping_cookies: one session for every authorization
    name = "form"

    def __init__(self, profile: Profile, allowed: set[str], hooks: Hooks, transport: httpx.BaseTransport | None):
        self.profile = profile
        self._args = (profile, allowed, hooks, transport)

    def _values(self) -> dict[str, str]:
        out = {}
        for name, value in self.profile.consent.form.fields.items():
            out[name] = value.value() if isinstance(value, Secret) else value
        return out

    def complete(self, url: str, redirect_uri: str, *, approve: bool = True) -> Callback:
        walker = Walker(*self._args, jar=self.jar)
        spec = self.profile.consent.form.approve if approve else self.profile.consent.form.deny
        if not approve and spec is None:
            words: tuple[str, ...] = _DENY_WORDS
        else:
            words = _APPROVE_WORDS
        hops: list[str] = []
        try:
            result = walker.follow(walker.http.get(url), redirect_uri, hops)
            for _ in range(self.profile.consent.form.max_pages):
                if isinstance(result, Callback):
                    return result
                if result.status_code not in (200, 401) or "html" not in result.headers.get("content-type", ""):
                    raise DriverStopped(f"the consent step ended with HTTP {result.status_code}", result)
                result = self._submit(walker, result, spec, words, redirect_uri, hops)
            if isinstance(result, Callback):
                return result
            raise DriverStopped("still no redirect to the client after submitting the forms", result)
        finally:
            walker.close()

    def _submit(
        self,
        walker: Walker,
        page: httpx.Response,
        spec: ButtonSpec | None,
        words: tuple[str, ...],
        redirect_uri: str,
        hops: list[str],
    ) -> httpx.Response | Callback:
        forms = parse_forms(page.text)
        if not forms:
            raise DriverStopped("the page has no form to submit", page, unlock="consent.driver")
        values = self._values()
        form = max(forms, key=lambda f: sum(1 for n, _, _ in f.inputs if n in values) + len(f.buttons))
        data: list[tuple[str, str]] = []
        for name, value, kind in form.inputs:
            if name in values:
                data.append((name, values[name]))
            elif kind == "password":
                raise DriverStopped(
                    f"the form asks for {name!r}, which the profile does not give", page, unlock="consent.form.fields"
                )
            else:
                data.append((name, value))
        chosen = next((b for b in form.buttons if _matches(b, spec, words)), None)
        if chosen is None:
            if spec is not None or len(form.buttons) > 1 or words is _DENY_WORDS:
                raise DriverStopped("no submit button matches the consent choice", page, unlock="consent.form.approve")
            chosen = form.buttons[0] if form.buttons else None
        if chosen is not None and chosen.name:
            data.append((chosen.name, chosen.value))
        action = urljoin(str(page.url), form.action or str(page.url))
        if form.method == "POST":
            body = urlencode(data)
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            response = walker.http.post(action, content=body, headers=headers)
        else:
            response = walker.http.get(action, params=httpx.QueryParams(urlencode(data)))
        hops.append(action)
        return walker.follow(response, redirect_uri, hops)

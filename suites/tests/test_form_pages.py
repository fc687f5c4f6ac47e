"""The form driver on login and consent pages served by a stub (httpx.MockTransport): a login form,
then a consent form, buttons without a name, a deny link; and what it says when it cannot go on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import make_driver
from oauth_conformance.drivers.pages import parse_page
from oauth_conformance.profile import parse_profile

AS = "https://as.test"
REDIRECT = "https://client.test/cb"
LOGIN = """<html><body><h1>Sign in</h1>
<form method="post" action="/login"><input type="hidden" name="tx" value="t1">
<input name="user" required><input type="password" name="pass" required>
<button type="submit" class="primary">Sign-in</button></form>
<a href="/cancel">[ Cancel ]</a></body></html>"""
CONSENT = """<html><body><p>The client asks for api:read.</p>
<form method="post" action="/consent"><input type="hidden" name="tx" value="t1">
<button class="go"><span>Allow access</span></button></form>
<a class="cancel" href="/cancel">No, thanks</a> <a href="/help">Help</a></body></html>"""


class Stub:
    """An authorization server with a login page, then a consent page; it remembers what it was sent."""

    def __init__(self, login: str = LOGIN, consent: str = CONSENT) -> None:
        self.pages = {"login": login, "consent": consent}
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode())) if request.method == "POST" else {}
        self.sent.append((request.method, request.url.path, form))
        path = request.url.path
        if request.url.host != "as.test":
            return httpx.Response(599)  # never reached: nothing leaves the authorization server
        if path == "/authorize":
            return httpx.Response(302, headers={"location": "/login"})
        if path == "/login" and request.method == "GET":
            return html(self.pages["login"])
        if path == "/login":
            ok = form.get("user") == "alice" and form.get("pass") == "pw" and form.get("tx") == "t1"
            return httpx.Response(303, headers={"location": "/consent"}) if ok else html(self.pages["login"])
        if path == "/consent" and request.method == "GET":
            return html(self.pages["consent"])
        if path == "/consent":
            return httpx.Response(303, headers={"location": f"{REDIRECT}?code=c0de&state=s"})
        if path == "/cancel":
            return httpx.Response(303, headers={"location": f"{REDIRECT}?error=access_denied&state=s"})
        return httpx.Response(404)

    def paths(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.sent]


def html(text: str) -> httpx.Response:
    return httpx.Response(200, text=text, headers={"content-type": "text/html; charset=utf-8"})


def complete(
    stub: Callable[[httpx.Request], httpx.Response], form: dict[str, Any] | None = None, *, approve: bool = True
) -> Any:
    settings = {"fields": {"user": "alice", "pass": "pw"}, **(form or {})}
    profile = parse_profile({"consent": {"driver": "form", "form": settings}})
    driver = make_driver(profile, {AS}, {}, httpx.MockTransport(stub))
    return driver.complete(f"{AS}/authorize?client_id=x", REDIRECT, approve=approve)


def test_logs_in_on_the_login_form_then_approves_on_the_consent_form() -> None:
    stub = Stub()
    callback = complete(stub)
    assert callback.first("code") == "c0de"
    assert stub.paths() == ["GET /authorize", "GET /login", "POST /login", "GET /consent", "POST /consent"]
    login, consent = stub.sent[2][2], stub.sent[4][2]
    assert login == {"tx": "t1", "user": "alice", "pass": "pw"}  # a button without a name adds nothing
    assert consent == {"tx": "t1"}  # the credentials go to the login form only


def test_denies_with_the_consent_pages_link_after_logging_in() -> None:
    stub = Stub()
    callback = complete(stub, approve=False)
    assert callback.first("error") == "access_denied"
    # The login page has a Cancel link too: the choice is made on the consent page only.
    assert stub.paths() == ["GET /authorize", "GET /login", "POST /login", "GET /consent", "GET /cancel"]


@pytest.mark.parametrize(
    ("choice", "spec", "last"),
    [
        (True, {"text": "allow access"}, "POST /consent"),
        (True, {"name": "", "text": "Allow"}, "POST /consent"),
        (True, {"selector": "button.go span"}, "POST /consent"),
        (False, {"text": "No, thanks"}, "GET /cancel"),
        (False, {"selector": "a.cancel"}, "GET /cancel"),
    ],
)
def test_a_control_is_found_by_its_text_its_selector_or_an_empty_name(
    choice: bool, spec: dict[str, str], last: str
) -> None:
    stub = Stub()
    complete(stub, {"approve" if choice else "deny": spec, "login": {"text": "Sign-in"}}, approve=choice)
    assert stub.paths()[-1] == last


@pytest.mark.parametrize(
    ("approve", "form", "unlock", "said"),
    [
        (False, {"deny": {"text": "Reject"}}, "consent.form.deny", 'consent.form.deny = { text = "Reject" }'),
        (True, {"approve": {"name": "action", "value": "yes"}}, "consent.form.approve", "link 'No, thanks'"),
        (True, {"approve": {"selector": "a["}}, "consent.form.approve", "does not parse"),
        (True, {"login": {"text": "Log on"}}, "consent.form.login", 'consent.form.login = { text = "Log on" }'),
        (True, {"fields": {"user": "alice"}}, "consent.form.fields", "'pass'"),
        (True, {"fields": {"user": "alice", "pass": "wrong"}}, "consent.form.fields", "credentials"),
    ],
)
def test_a_stop_names_the_setting_that_would_get_it_further(
    approve: bool, form: dict[str, Any], unlock: str, said: str
) -> None:
    with pytest.raises(DriverStopped) as stopped:
        complete(Stub(), form, approve=approve)
    assert stopped.value.unlock == unlock
    assert said in stopped.value.reason


def test_two_matching_controls_are_reported_not_guessed() -> None:
    consent = CONSENT.replace('<a href="/help">Help</a>', '<a href="/cancel?again=1">Cancel</a>')
    with pytest.raises(DriverStopped, match="2 controls match") as stopped:
        complete(Stub(consent=consent), approve=False)
    assert stopped.value.unlock == "consent.form.deny"


def test_a_deny_button_is_preferred_to_a_cancel_link() -> None:
    consent = CONSENT.replace("</button></form>", '</button><button name="choice" value="deny">Deny</button></form>')
    stub = Stub(consent=consent)
    complete(stub, approve=False)
    assert stub.sent[-1][:2] == ("POST", "/consent") and stub.sent[-1][2].get("choice") == "deny"


def test_a_login_form_with_several_buttons_needs_the_login_setting() -> None:
    login = LOGIN.replace("Sign-in</button>", 'Go</button><button name="sso">Use SSO</button>')
    with pytest.raises(DriverStopped, match="none is plainly the one that logs in") as stopped:
        complete(Stub(login=login))
    assert stopped.value.unlock == "consent.form.login"
    assert complete(Stub(login=login), {"login": {"text": "Go"}}).first("code") == "c0de"


def test_a_link_to_the_redirect_uri_is_taken_as_the_answer_and_never_followed() -> None:
    consent = CONSENT.replace('href="/cancel"', f'href="{REDIRECT}?error=access_denied&amp;state=s"')
    stub = Stub(consent=consent)
    callback = complete(stub, approve=False)
    assert callback.first("error") == "access_denied"
    assert stub.paths()[-1] == "GET /consent"  # nothing was sent to the client


def test_a_link_off_the_allowed_origins_is_not_followed() -> None:
    consent = CONSENT.replace('href="/cancel"', 'href="https://elsewhere.test/cancel"')
    stub = Stub(consent=consent)
    with pytest.raises(DriverStopped, match=r"elsewhere\.test") as stopped:
        complete(stub, approve=False)
    assert stopped.value.unlock == "consent.allowed_origins"
    assert stub.paths()[-1] == "GET /consent"


def test_a_page_without_forms_or_links_points_at_the_browser_driver() -> None:
    stub = Stub(login="<html><body><div id=app></div><script src=/app.js></script></body></html>")
    with pytest.raises(DriverStopped) as stopped:
        complete(stub)
    assert stopped.value.unlock == 'consent.driver = "browser"'


def test_pages_are_read_as_a_browser_would_submit_them() -> None:
    page = parse_page(
        "<form id=f action=/x method=post><input name=a value=1><input name=off value=2 disabled>"
        "<input type=checkbox name=c value=y checked><input type=checkbox name=d value=n>"
        "<select name=s><option value=p>P<option value=q selected>Q</select>"
        '<input type=submit value="Send it"><button type=button>Nope</button></form>'
        '<button form=f name=outside value=1>Outside</button><a href="#top">Top</a>'
    )
    (form,) = page.forms
    assert [(n, v) for n, v, _ in form.inputs] == [("a", "1"), ("c", "y"), ("s", "q")]
    assert [(b.name, b.text) for b in form.buttons] == [(None, "Send it"), ("outside", "Outside")]
    assert page.links == []  # a fragment link goes nowhere

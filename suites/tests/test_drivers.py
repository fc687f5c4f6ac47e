"""Consent drivers against the reference's real login-and-consent page (and its auto-approve mode)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oauth_conformance.drivers import BrowserDriver
from oauth_conformance.drivers import Chromium
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import make_driver
from oauth_conformance.drivers.browser import browser_available
from oauth_conformance.evidence import Recorder
from oauth_conformance.profile import parse_profile
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.time_travel import OFFSET_HEADER
from oauth_conformance.time_travel import HeaderClock
from oauth_reference.serving.process import served

from .conftest import Listener

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def consent_server() -> Iterator[str]:
    with served(["--store", "memory", "--test-mode"]) as server:
        yield server.url


@pytest.fixture(scope="module")
def auto_server() -> Iterator[str]:
    with served(["--store", "memory", "--auto-approve"]) as server:
        yield server.url


def register(base: str, *redirect_uris: str) -> Client:
    uris = list(redirect_uris or [REDIRECT])
    body = {"redirect_uris": uris, "token_endpoint_auth_method": "none", "client_name": "<b>driver</b>"}
    response = httpx.post(f"{base}/oauth/register", json=body)
    assert response.status_code == 201
    return Client(response.json()["client_id"], "none", uris[0])


def authorization_url(base: str, client: Client, state: str = "st-1") -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?" + str(httpx.QueryParams(params))


def profile(**consent: Any) -> Any:
    return parse_profile({"consent": consent})


def test_redirect_driver_follows_an_auto_approving_server_to_the_callback(auto_server: str) -> None:
    driver = make_driver(profile(driver="redirect"), {auto_server}, {})
    callback = driver.complete(authorization_url(auto_server, register(auto_server)), REDIRECT)
    assert callback.first("code")
    assert callback.first("state") == "st-1"


def test_redirect_driver_stops_at_a_login_page_naming_the_setting_to_use(consent_server: str) -> None:
    driver = make_driver(profile(driver="redirect"), {consent_server}, {})
    with pytest.raises(DriverStopped) as stopped:
        driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
    assert stopped.value.unlock is not None
    assert "form" in stopped.value.unlock


def test_redirect_driver_never_leaves_the_allowed_origins(auto_server: str) -> None:
    driver = make_driver(profile(driver="redirect"), {"http://elsewhere.test"}, {})
    with pytest.raises(DriverStopped, match="neither the authorization server nor the client"):
        driver.complete(authorization_url(auto_server, register(auto_server)), "http://127.0.0.1:9/other")


FORM = {
    "fields": {"username": "alice", "password": "wonderland"},
    "approve": {"name": "action", "value": "approve"},
    "deny": {"name": "action", "value": "deny"},
}


def test_form_driver_logs_in_and_approves(consent_server: str) -> None:
    driver = make_driver(profile(driver="form", form=FORM), {consent_server}, {})
    callback = driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
    assert callback.first("code")
    assert callback.first("iss") == consent_server
    assert callback.status == 303  # OAUTH21-7.5.3: never a 307 after a credential POST


def test_form_driver_denies(consent_server: str) -> None:
    driver = make_driver(profile(driver="form", form=FORM), {consent_server}, {})
    callback = driver.complete(
        authorization_url(consent_server, register(consent_server), "st-2"), REDIRECT, approve=False
    )
    assert callback.first("error") == "access_denied"
    assert callback.first("state") == "st-2"
    assert callback.first("code") is None


def test_form_driver_stops_when_a_password_is_asked_for_but_not_given(consent_server: str) -> None:
    driver = make_driver(profile(driver="form", form={"fields": {"username": "alice"}}), {consent_server}, {})
    with pytest.raises(DriverStopped, match="password"):
        driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)


def test_form_driver_reports_wrong_credentials_instead_of_looping(consent_server: str) -> None:
    wrong = {**FORM, "fields": {"username": "alice", "password": "nope"}}
    driver = make_driver(profile(driver="form", form=wrong), {consent_server}, {})
    with pytest.raises(DriverStopped):
        driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)


def consent_callable(url: str, *, redirect_uri: str, approve: bool, http: httpx.Client) -> str:
    # A user's own consent automation: here it simply follows an auto-approving server.
    response = http.get(url)
    return str(response.headers["location"])


def test_python_driver_calls_the_users_function(auto_server: str) -> None:
    driver = make_driver(
        profile(driver="python", callable="suites.tests.test_drivers:consent_callable"), {auto_server}, {}
    )
    callback = driver.complete(authorization_url(auto_server, register(auto_server)), REDIRECT)
    assert callback.first("code")


BROWSER_STEPS: dict[str, Any] = {
    "steps": [
        {"action": "fill", "selector": "input[name=username]", "value": "alice"},
        {"action": "fill", "selector": "input[name=password]", "value": "wonderland"},
        {"action": "click", "selector": "#approve"},
    ],
    "deny_steps": [{"action": "click", "selector": "#deny"}],
}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    """One browser for this module's tests (the harness keeps one per run the same way)."""
    problem = browser_available("/usr/bin/chromium")
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser driver cannot run: {problem}; CI must install chromium")
        pytest.skip(f"the browser driver cannot run here: {problem}")
    browser = Chromium("/usr/bin/chromium")
    try:
        yield browser
    finally:
        browser.close()


def browser_driver(
    server: str, chromium: Chromium, hooks: dict[str, list[Any]] | None = None, **browser: Any
) -> ConsentDriver:
    settings = {**BROWSER_STEPS, **browser}
    return make_driver(profile(driver="browser", browser=settings), {server}, hooks or {}, chromium=chromium)


def test_browser_driver_never_contacts_the_redirect_uri(
    consent_server: str, chromium: Chromium, listener: Listener
) -> None:
    redirect = listener.url()
    client = register(consent_server, redirect)
    driver = browser_driver(consent_server, chromium)
    approved = driver.complete(authorization_url(consent_server, client, "st-a"), redirect)
    assert approved.first("code") and approved.first("state") == "st-a"
    assert approved.status == 303  # the redirect the server answered the consent POST with
    denied = driver.complete(authorization_url(consent_server, client, "st-d"), redirect, approve=False)
    assert denied.first("error") == "access_denied" and denied.first("state") == "st-d"
    # An error the server redirects with at once, before any page: Chromium is sent straight back.
    bad = authorization_url(consent_server, client, "st-e").replace("response_type=code", "response_type=bogus")
    refused = driver.complete(bad, redirect)
    assert refused.first("error") == "unsupported_response_type" and refused.first("state") == "st-e"
    assert listener.connections == [], "the browser contacted the redirect URI"


def test_browser_driver_keeps_one_browser_for_many_authorizations(consent_server: str) -> None:
    if browser_available("/usr/bin/chromium"):
        pytest.skip("no browser")
    own = Chromium("/usr/bin/chromium")
    try:
        driver = browser_driver(consent_server, own)
        client = register(consent_server)
        for state in ("one", "two", "three"):
            assert driver.complete(authorization_url(consent_server, client, state), REDIRECT).first("state") == state
        assert own.launches == 1
    finally:
        own.close()


def test_browser_driver_blocks_a_redirect_off_the_allowed_origins(
    consent_server: str, chromium: Chromium, listener: Listener
) -> None:
    # The server sends the browser to a URI the driver was not told about (here: another
    # registered redirect URI, on a port that listens): it is neither sent nor followed.
    elsewhere = listener.url("/elsewhere")
    client = register(consent_server, REDIRECT, elsewhere)
    url = authorization_url(consent_server, Client(client.client_id, "none", elsewhere))
    with pytest.raises(DriverStopped) as stopped:
        browser_driver(consent_server, chromium).complete(url, REDIRECT)
    assert stopped.value.unlock == "consent.allowed_origins"
    page = stopped.value.response
    assert page is not None and page.status_code == 303  # what the server answered (tests read Location)
    assert page.headers["location"].startswith(elsewhere)
    assert listener.connections == []


def test_browser_driver_records_its_exchanges_like_the_http_drivers(consent_server: str, chromium: Chromium) -> None:
    recorder = Recorder()

    def on_response(response: httpx.Response) -> None:
        response.read()
        recorder.add(response)

    driver = browser_driver(consent_server, chromium, {"response": [on_response]})
    code = driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT).first("code")
    assert code
    seen = [(e.method, e.status) for e in recorder.exchanges]
    assert ("GET", 200) in seen and ("POST", 303) in seen  # the consent page, and its answer
    page = next(e for e in recorder.exchanges if e.method == "GET" and e.status == 200)
    assert "text/html" in page.response_headers["content-type"] and "<form" in page.response_body
    evidence = str(recorder.evidence(last=12))
    assert "redacted" in evidence and code not in evidence and "wonderland" not in evidence


def test_a_header_clock_travels_with_the_browsers_requests_and_cookies_still_do(
    consent_server: str, chromium: Chromium
) -> None:
    # Request hooks rewrite the browser's headers (the header clock); the demo's CSRF cookie must survive.
    clock = HeaderClock()
    clock.advance(1)
    sent: list[httpx.Response] = []
    driver = browser_driver(consent_server, chromium, {"request": [clock.apply], "response": [sent.append]})
    assert driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT).first("code")
    offsets = {r.request.headers.get(OFFSET_HEADER) for r in sent}
    assert offsets == {str(clock.offset)}, offsets


def test_a_browser_step_that_finds_nothing_names_itself_and_gives_up_in_time(
    consent_server: str, chromium: Chromium
) -> None:
    driver = browser_driver(
        consent_server, chromium, login_steps=[{"action": "wait", "selector": "#no-such-thing"}], timeout=1.5
    )
    started = time.monotonic()
    with pytest.raises(DriverStopped) as stopped:
        driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
    assert time.monotonic() - started < 6
    assert stopped.value.reason.startswith("login step 1 (wait '#no-such-thing'): nothing matched within 1.5s")
    assert stopped.value.unlock == "consent.browser.login_steps"
    deny = browser_driver(consent_server, chromium, deny_steps=[{"action": "click", "selector": "#nope"}], timeout=1)
    with pytest.raises(DriverStopped, match=r"^deny step 1 \(click '#nope'\)") as stopped:
        deny.complete(authorization_url(consent_server, register(consent_server)), REDIRECT, approve=False)
    assert stopped.value.unlock == "consent.browser.deny_steps"


def test_a_step_that_never_matches_gets_only_a_short_look_after_two_misses(
    consent_server: str, chromium: Chromium
) -> None:
    # A wrong selector in a profile must not cost every test of the run its full timeout.
    steps = [{"action": "click", "selector": "#never"}]
    driver = browser_driver(consent_server, chromium, login_steps=steps, timeout=4)
    took = []
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(DriverStopped) as stopped:
            driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
        took.append(time.monotonic() - started)
    assert "nor in 2 earlier authorizations" in stopped.value.reason
    assert took[2] < took[0] - 1, took


def test_a_wait_step_is_content_with_a_hidden_field(consent_server: str, chromium: Chromium) -> None:
    steps = [{"action": "wait", "selector": "input[name=csrf]"}, *BROWSER_STEPS["steps"]]
    driver = browser_driver(consent_server, chromium, steps=steps, timeout=3)
    assert driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT).first("code")


def test_browser_driver_stops_at_an_error_page_without_waiting_out_its_steps(
    consent_server: str, chromium: Chromium
) -> None:
    url = authorization_url(consent_server, Client("no-such-client", "none", REDIRECT))
    started = time.monotonic()
    with pytest.raises(DriverStopped) as stopped:
        browser_driver(consent_server, chromium, timeout=10).complete(url, REDIRECT)
    assert time.monotonic() - started < 5
    page = stopped.value.response
    assert page is not None and page.status_code == 400 and stopped.value.unlock is None  # a result, not a stop


def test_a_chromium_that_does_not_start_is_a_stop_naming_the_setting(consent_server: str) -> None:
    if browser_available("/usr/bin/chromium"):
        pytest.skip("no playwright")
    driver = make_driver(profile(driver="browser", browser={**BROWSER_STEPS, "executable": "/bin/false"}), set(), {})
    try:
        with pytest.raises(DriverStopped, match="Chromium did not start") as stopped:
            driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
        assert stopped.value.unlock == "consent.browser.executable"
    finally:
        assert isinstance(driver, BrowserDriver)
        driver.close()


def test_browser_driver_without_playwright_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert "pip install 'oauth-conformance[browser]'" in (browser_available("/usr/bin/chromium") or "")

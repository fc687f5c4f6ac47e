"""Consent drivers against the reference's real login-and-consent page (and its auto-approve mode)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import make_driver
from oauth_conformance.drivers.browser import browser_available
from oauth_conformance.profile import parse_profile
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import pkce_pair
from oauth_reference.serving.process import served

REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def consent_server() -> Iterator[str]:
    with served(["--store", "memory", "--test-mode"]) as server:
        yield server.url


@pytest.fixture(scope="module")
def auto_server() -> Iterator[str]:
    with served(["--store", "memory", "--auto-approve"]) as server:
        yield server.url


def register(base: str) -> Client:
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", "client_name": "<b>driver</b>"}
    response = httpx.post(f"{base}/oauth/register", json=body)
    assert response.status_code == 201
    return Client(response.json()["client_id"], "none", REDIRECT)


def authorization_url(base: str, client: Client, state: str = "st-1") -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
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


BROWSER_STEPS = {
    "steps": [
        {"action": "fill", "selector": "input[name=username]", "value": "alice"},
        {"action": "fill", "selector": "input[name=password]", "value": "wonderland"},
        {"action": "click", "selector": "#approve"},
    ],
    "deny_steps": [{"action": "click", "selector": "#deny"}],
}


def test_browser_driver_logs_in_and_approves_in_chromium(consent_server: str) -> None:
    problem = browser_available("/usr/bin/chromium")
    if problem:
        pytest.skip(f"the browser driver cannot run here: {problem}")
    driver = make_driver(profile(driver="browser", browser=BROWSER_STEPS), {consent_server}, {})
    callback = driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT)
    assert callback.first("code")
    denied = driver.complete(authorization_url(consent_server, register(consent_server)), REDIRECT, approve=False)
    assert denied.first("error") == "access_denied"


def test_browser_driver_without_playwright_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert "pip install 'oauth-conformance[browser]'" in (browser_available("/usr/bin/chromium") or "")

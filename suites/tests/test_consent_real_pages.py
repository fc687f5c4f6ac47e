"""The consent drivers on a real third-party login page: oidc-provider's own development login and
consent pages (fixtures/targets/oidc-provider/start --interactive): a login form, then a consent
form, buttons without a name, and a "[ Cancel ]" link to deny.

The drivers one authorization at a time, then the suites that go through the consent step run
with each driver (fixtures/targets/consent_drivers.py): the form and browser drivers must come
within 5% of the same server auto-approving through the redirect driver, deny included, and no
driver may contact the redirect URI. Needs Node and npm (the target's start script installs its
pinned packages): skipped without them on a developer machine, failed under CI=true.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from oauth_conformance.drivers import Chromium
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import make_driver
from oauth_conformance.drivers.browser import browser_available
from oauth_conformance.profile import ButtonSpec
from oauth_conformance.profile import load_profile
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import pkce_pair

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ROOT / "fixtures" / "targets"
PROFILES = ROOT / "fixtures" / "profiles"
REDIRECT = "http://127.0.0.1:9/callback"

pytestmark = pytest.mark.slow


def _consent_drivers() -> ModuleType:
    sys.path.insert(0, str(TARGETS))
    try:
        return importlib.import_module("consent_drivers")
    finally:
        sys.path.remove(str(TARGETS))


def _need(what: str, present: bool) -> None:
    if not present:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is needed for oidc-provider's login pages; CI must install it")
        pytest.skip(f"{what} is needed for oidc-provider's login pages")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    """(auto-approving URL, login-pages URL)."""
    _need("Node and npm", shutil.which("node") is not None and shutil.which("npm") is not None)
    with _consent_drivers().oidc_provider_pair() as pair:
        yield pair


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _consent_drivers().PASSWORD_ENV.items():
        monkeypatch.setenv(name, value)


def authorization_url(base: str, redirect_uri: str = REDIRECT, **extra: str) -> str:
    body = {"redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none"}
    registered = httpx.post(f"{base}/reg", json=body)
    assert registered.status_code == 201, registered.text
    client = Client(registered.json()["client_id"], "none", redirect_uri)
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": "api:read",
        "state": "st-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{base}/auth?" + str(httpx.QueryParams(params))


# ------------------------------------------------------------------------ one authorization
@pytest.mark.usefixtures("password")
def test_the_form_driver_logs_in_then_approves_or_denies_with_the_cancel_link(servers: tuple[str, str]) -> None:
    _, login = servers
    profile = load_profile(PROFILES / "oidc-provider-login-form.toml")
    seen: list[httpx.Response] = []
    driver = make_driver(profile, {login}, {"response": [seen.append]})
    approved = driver.complete(authorization_url(login), REDIRECT)
    assert approved.first("code") and approved.first("state") == "st-1"
    posts = [r for r in seen if r.request.method == "POST"]
    assert [r.status_code for r in posts] == [303, 303]  # the login form, then the consent form
    assert b"password=" in posts[0].request.content and b"password=" not in posts[1].request.content
    seen.clear()
    denied = driver.complete(authorization_url(login), REDIRECT, approve=False)
    assert denied.first("error") == "access_denied" and denied.first("code") is None
    # Logged in first (the login page has the same link), then followed the consent page's link.
    steps = [(r.request.method, r.request.url.path) for r in seen]
    logins = [i for i, (method, _) in enumerate(steps) if method == "POST"]
    aborts = [i for i, (_, path) in enumerate(steps) if path.endswith("/abort")]
    assert len(logins) == 1 and len(aborts) == 1 and logins[0] < aborts[0], steps


@pytest.mark.usefixtures("password")
def test_the_form_driver_names_the_setting_that_would_get_it_further(servers: tuple[str, str]) -> None:
    _, login = servers
    base = load_profile(PROFILES / "oidc-provider-login-form.toml")
    wrong_deny = replace(base.consent.form, deny=ButtonSpec(text="Reject"))
    profile = replace(base, consent=replace(base.consent, form=wrong_deny))
    with pytest.raises(DriverStopped) as stopped:
        make_driver(profile, {login}, {}).complete(authorization_url(login), REDIRECT, approve=False)
    assert stopped.value.unlock == "consent.form.deny"
    assert 'consent.form.deny = { text = "Reject" }' in stopped.value.reason
    assert "'[ Cancel ]'" in stopped.value.reason  # what the page does offer
    no_password = replace(base.consent.form, fields={"login": "test-user"})
    profile = replace(base, consent=replace(base.consent, form=no_password))
    with pytest.raises(DriverStopped) as stopped:
        make_driver(profile, {login}, {}).complete(authorization_url(login), REDIRECT)
    assert stopped.value.unlock == "consent.form.fields" and "'password'" in stopped.value.reason


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    problem = browser_available("/usr/bin/chromium")
    _need(f"the browser driver ({problem})", problem is None)
    browser = Chromium("/usr/bin/chromium")
    try:
        yield browser
    finally:
        browser.close()


@pytest.mark.usefixtures("password")
def test_the_browser_driver_logs_in_then_approves_or_denies_with_the_cancel_link(
    servers: tuple[str, str], chromium: Chromium
) -> None:
    _, login = servers
    profile = load_profile(PROFILES / "oidc-provider-login-browser.toml")
    listener = _consent_drivers().Listener()
    redirect_uri = f"http://127.0.0.1:{listener.port}/callback"
    try:
        seen: list[httpx.Response] = []
        driver = make_driver(profile, {login}, {"response": [seen.append]}, chromium=chromium)
        approved = driver.complete(authorization_url(login, redirect_uri), redirect_uri)
        assert approved.first("code") and approved.first("iss") == login
        assert approved.status == 303
        assert [r.status_code for r in seen if r.request.method == "POST"] == [303, 303]
        denied = driver.complete(authorization_url(login, redirect_uri), redirect_uri, approve=False)
        assert denied.first("error") == "access_denied" and denied.first("code") is None
        refused = driver.complete(authorization_url(login, redirect_uri, response_type="token"), redirect_uri)
        assert refused.first("error") == "unsupported_response_type"  # before any login
    finally:
        listener.close()
    assert listener.connections == [], "the browser contacted the redirect URI"


# ------------------------------------------------------------------------------- the suites
def test_the_form_and_browser_drivers_reach_the_auto_approve_yardstick(
    servers: tuple[str, str], tmp_path: Path
) -> None:
    tool = _consent_drivers()
    problem = browser_available("/usr/bin/chromium")
    _need(f"the browser driver ({problem})", problem is None)
    auto, login = servers
    runs = tool.measure(auto, login, tmp_path)
    result = tool.summary(runs)
    table = tool.markdown(result, tool.SPECS)
    print(table)
    rows = result["runs"]
    dependent = result["consent_dependent"]
    assert len(dependent) >= 40, f"only {len(dependent)} consent-dependent requirements: is the target asking?\n{table}"
    yardstick = len(rows["yardstick"]["consent_dependent_pass"])
    assert len(rows["stuck"]["consent_dependent_pass"]) < yardstick / 2, table  # the login page really stops it
    for name in ("form", "browser"):
        row = rows[name]
        short = f"{name} falls short of the yardstick\n{table}\n" + "\n".join(
            f"{rid}: {why}" for rid, why in row["consent_dependent_other"].items()
        )
        assert len(row["consent_dependent_pass"]) >= 0.95 * yardstick, short
        assert set(row["deny_tests"].values()) == {"pass"}, f"{name} cannot deny: {row['deny_tests']}"
        assert not row["lost_from_stuck"], f"{name} loses what needs no login: {row['lost_from_stuck']}"
    for name, row in rows.items():
        assert not row["not_tested_without_unlock"], f"{name}: not_tested without a hint: {row}"
        assert row["redirect_uri_connections"] == 0, f"{name} contacted the redirect URI: {runs[name].connections}"

"""The demo application's login-and-consent page (``oauth-reference serve`` without --auto-approve)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import httpx
import pytest

from oauth_reference.serving.demo.app import DEMO_USERS
from reference.tests.conftest import ORIGIN
from reference.tests.conftest import REDIRECT
from reference.tests.conftest import Env
from reference.tests.conftest import EnvFactory
from reference.tests.conftest import pkce_pair
from reference.tests.conftest import query_of

pytestmark = pytest.mark.anyio

XSS = "<script>alert(1)</script>"


@dataclass
class Page:
    response: httpx.Response
    request_blob: str
    csrf: str
    verifier: str
    client_id: str


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type=hidden name={name} value="([^"]*)">', page)
    assert match is not None, f"no hidden {name} field"
    return html.unescape(match.group(1))


@pytest.fixture
def consent_env(make_env: EnvFactory) -> Env:
    return make_env({"scopes_supported": None}, auto_approve=False)


async def _consent_page(env: Env, *, client_name: str = "Shop", scope: str = "profile", state: str = "st") -> Page:
    client = await env.register(client_name=client_name)
    verifier, challenge = pkce_pair()
    response = await env.authorize(
        client["client_id"], code_challenge=challenge, code_challenge_method="S256", state=state, scope=scope
    )
    assert response.status_code == 200, response.text
    return Page(
        response, _hidden(response.text, "request"), _hidden(response.text, "csrf"), verifier, client["client_id"]
    )


async def _submit(env: Env, page: Page, **fields: str) -> httpx.Response:
    data = {"request": page.request_blob, "csrf": page.csrf, **fields}
    return await env.http.post("/authorize", data=data)


async def test_the_consent_page_is_a_login_form_that_cannot_be_framed(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    response = page.response
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "oauth_demo_csrf=" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]
    assert "name=password type=password" in response.text
    assert "value=approve" in response.text
    assert "value=deny" in response.text


async def test_the_consent_page_escapes_everything_it_echoes(consent_env: Env) -> None:
    page = await _consent_page(consent_env, client_name=XSS, scope="<img/src=x>", state='"><b>')
    text = page.response.text
    assert "<script>" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;img/src=x&gt;" in text
    assert '"><b>' not in text


async def test_approving_with_demo_credentials_redirects_with_a_code_by_303(consent_env: Env) -> None:
    """OAUTH21-7.5.4-NO-307: a redirect after a credential POST must not be 307."""
    page = await _consent_page(consent_env)
    user, password = next(iter(DEMO_USERS.items()))
    response = await _submit(consent_env, page, username=user, password=password, action="approve")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query_of(location)
    assert params["state"] == ["st"]
    assert params["iss"] == [ORIGIN]
    token = await consent_env.token(
        {
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "code_verifier": page.verifier,
            "client_id": page.client_id,
        }
    )
    assert token.status_code == 200
    whoami = await consent_env.api(token.json()["access_token"])
    assert whoami.json()["user_id"] == user
    assert whoami.json()["props"]["user_id"] == user


@pytest.mark.parametrize(("user", "password"), sorted(DEMO_USERS.items()))
async def test_every_demo_user_can_sign_in(consent_env: Env, user: str, password: str) -> None:
    page = await _consent_page(consent_env)
    response = await _submit(consent_env, page, username=user, password=password, action="approve")
    assert response.status_code == 303
    assert "code" in query_of(response.headers["location"])


async def test_denying_redirects_with_access_denied_state_and_iss(consent_env: Env) -> None:
    """OAuth 2.1 section 4.1.2.1: the denial goes back to the client; RFC9207-2-ERROR adds iss."""
    page = await _consent_page(consent_env)
    response = await _submit(consent_env, page, action="deny")
    assert response.status_code == 303
    params = query_of(response.headers["location"])
    assert params["error"] == ["access_denied"]
    assert params["state"] == ["st"]
    assert params["iss"] == [ORIGIN]
    assert "code" not in params
    assert (await consent_env.provider.helpers.list_user_grants("alice")).items == []


@pytest.mark.parametrize(("user", "password"), [("alice", "wrong"), ("mallory", "wonderland"), ("alice", "")])
async def test_wrong_credentials_show_the_form_again_with_401(consent_env: Env, user: str, password: str) -> None:
    page = await _consent_page(consent_env)
    response = await _submit(consent_env, page, username=user, password=password, action="approve")
    assert response.status_code == 401
    assert "location" not in response.headers
    assert "wrong password" in response.text
    assert "name=password" in response.text
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_missing_csrf_token_is_refused_with_403(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    response = await consent_env.http.post(
        "/authorize", data={"request": page.request_blob, "username": "alice", "password": "wonderland"}
    )
    assert response.status_code == 403


async def test_a_wrong_csrf_token_is_refused_with_403(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    response = await _submit(
        consent_env, page, csrf="0" * 64, username="alice", password="wonderland", action="approve"
    )
    assert response.status_code == 403


async def test_a_post_without_the_csrf_cookie_is_refused_with_403(consent_env: Env) -> None:
    """A cross-site form post carries the token it saw, but not the victim's cookie binding."""
    page = await _consent_page(consent_env)
    consent_env.http.cookies.clear()
    response = await _submit(consent_env, page, username="alice", password="wonderland", action="approve")
    assert response.status_code == 403


async def test_a_csrf_token_from_another_browser_is_refused(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=consent_env.provider), base_url=ORIGIN)
    async with other:
        other.cookies.set("oauth_demo_csrf", "attacker-chosen-cookie")
        response = await other.post(
            "/authorize",
            data={"request": page.request_blob, "csrf": page.csrf, "username": "alice", "password": "wonderland"},
        )
    assert response.status_code == 403


async def test_a_tampered_request_blob_is_refused_with_400(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    blob, mac = page.request_blob.split(".", 1)
    tampered = blob[:-4] + ("AAAA" if blob[-4:] != "AAAA" else "BBBB") + "." + mac
    response = await _submit(
        consent_env, page, request=tampered, username="alice", password="wonderland", action="approve"
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    for garbage in ("", "no-dot", "!!!.!!!"):
        response = await _submit(consent_env, page, request=garbage, action="approve")
        assert response.status_code == 400


async def test_a_consent_post_that_is_not_a_form_is_refused(consent_env: Env) -> None:
    response = await consent_env.http.post("/authorize", json={"action": "approve"})
    assert response.status_code == 400


async def test_an_invalid_request_shows_an_escaped_error_page_without_redirecting(consent_env: Env) -> None:
    response = await consent_env.http.get("/authorize", params={"client_id": XSS, "response_type": "code"})
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "<script>" not in response.text
    assert response.headers["x-frame-options"] == "DENY"


async def test_an_approval_for_a_client_deleted_meanwhile_is_refused(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    await consent_env.provider.helpers.delete_client(page.client_id)
    response = await _submit(consent_env, page, username="alice", password="wonderland", action="approve")
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_the_consent_page_names_the_redirect_host_and_warns_about_loopback(consent_env: Env) -> None:
    page = await _consent_page(consent_env)
    assert "127.0.0.1:9" in page.response.text
    assert "loopback" in page.response.text


async def test_an_erroneous_request_asks_for_a_sign_in_before_redirecting_the_error(consent_env: Env) -> None:
    """OAUTH21-7.12.2-AUTH-BEFORE-ERROR: no error bounce to the client before the user signed in."""
    client = await consent_env.register()
    response = await consent_env.authorize(client["client_id"], response_type="bogus", state="st")
    assert response.status_code == 200
    assert "location" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"
    blob, csrf = _hidden(response.text, "request"), _hidden(response.text, "csrf")
    wrong = await consent_env.http.post(
        "/authorize", data={"request": blob, "csrf": csrf, "username": "alice", "password": "x", "action": "approve"}
    )
    assert wrong.status_code == 401
    assert "location" not in wrong.headers
    user, password = next(iter(DEMO_USERS.items()))
    signed_in = await consent_env.http.post(
        "/authorize", data={"request": blob, "csrf": csrf, "username": user, "password": password, "action": "approve"}
    )
    assert signed_in.status_code == 303
    params = query_of(signed_in.headers["location"])
    assert params["error"] == ["unsupported_response_type"]
    assert params["state"] == ["st"]
    assert "code" not in params

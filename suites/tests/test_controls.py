"""Positive controls: who broke a valid request, the server or the harness."""

from __future__ import annotations

import httpx
import pytest

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.support import controls
from oauth_conformance.support.pages import shows_host
from oauth_conformance.support.pages import visible_text
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

URL = "https://as.example/authorize"


def page(status: int, content_type: str = "text/html", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, headers={"content-type": content_type, **(headers or {})}, request=httpx.Request("GET", URL)
    )


@pytest.mark.parametrize(
    ("stop", "fault"),
    [
        (DriverStopped("the consent step ended with HTTP 500", page(500)), "HTTP 500"),
        (DriverStopped("the consent step ended with HTTP 400", page(400)), "an error page (HTTP 400)"),
        (DriverStopped("HTTP 302 without a Location header", page(302)), "HTTP 302 without a Location header"),
        (DriverStopped("the consent step ended with HTTP 200", page(200, "application/json")), "not a page"),
    ],
)
def test_a_stop_on_an_error_status_is_the_servers_doing(stop: DriverStopped, fault: str) -> None:
    found = controls.stop_fault(stop)
    assert found is not None and fault in found


@pytest.mark.parametrize(
    "stop",
    [
        DriverStopped("the page has no form to submit", page(200), unlock="consent.driver"),
        DriverStopped("redirected to https://idp.example", page(302), unlock="consent.allowed_origins"),
        DriverStopped("the form asks for 'otp'", page(200), unlock="consent.form.fields"),
        DriverStopped("still no redirect to the client after submitting the forms", page(200)),
        DriverStopped("the browser never reached the redirect URI", None, unlock="consent.browser.steps"),
    ],
)
def test_a_stop_the_harness_caused_is_nobodys_failure(stop: DriverStopped) -> None:
    assert controls.stop_fault(stop) is None


def test_an_error_redirect_for_a_valid_request_fails_the_happy_path_unless_the_harness_asked_wrong() -> None:
    broken = controls.error_redirect(controls.CODE_FLOW, "server_error", "the plain authorization request")
    assert isinstance(broken, PrerequisiteFailed) and broken.requirement == controls.CODE_FLOW
    missing = controls.error_redirect(controls.CODE_FLOW, None, "the plain authorization request")
    assert isinstance(missing, PrerequisiteFailed) and "neither code nor error" in missing.reason
    scope = controls.error_redirect(controls.CODE_FLOW, "invalid_scope", "the plain authorization request")
    assert type(scope) is NotTested and scope.unlock == "[request] scope"
    profile_client = controls.error_redirect(
        controls.CODE_FLOW, "unauthorized_client", "the plain authorization request", from_profile=True
    )
    assert type(profile_client) is NotTested and profile_client.unlock == "[[clients]]"


def test_a_happy_path_test_turns_its_own_broken_step_into_a_failure() -> None:
    own = controls.fails_here(controls.broken(controls.CODE_FLOW, "HTTP 500"), controls.CODE_FLOW)
    assert isinstance(own, AssertionError) and str(own) == "HTTP 500"
    other = controls.broken(controls.REFRESH, "invalid_grant")
    assert controls.fails_here(other, controls.CODE_FLOW) is other


# ---------------------------------------------------------------------------------- pages
SHOWN = "<p>After your decision you are sent to <strong>callback.example</strong>.</p>"


@pytest.mark.parametrize(
    "html",
    [
        '<input type=hidden name=host value="callback.example">',
        "<div hidden>callback.example</div>",
        '<p style="color: red; display:none">callback.example</p>',
        "<script>var host = 'callback.example'</script>",
        "<head><title>callback.example</title></head>",
        "<!-- callback.example -->",
        '<a href="https://callback.example/">the application</a>',
        "<p>sent to callback.example.evil.test</p>",
        "<p>sent to mycallback.example</p>",
    ],
)
def test_a_host_that_is_not_visible_text_is_not_shown(html: str) -> None:
    assert not shows_host(visible_text(f"<!doctype html><html><body>{html}</body></html>"), "callback.example")


@pytest.mark.parametrize(
    "html",
    [
        SHOWN,
        f"<!-- {'x' * 5000} -->{SHOWN}",  # after 4 KB: the whole page is read
        "<p>Unclosed <li>first<li>sent to CALLBACK.EXAMPLE:443</p>",
        "<button>Continue to callback.example</button>",
        '<input type=submit value="Continue to callback.example">',
    ],
)
def test_a_host_in_the_visible_text_is_shown(html: str) -> None:
    assert shows_host(visible_text(f"<!doctype html><html><body>{html}</body></html>"), "callback.example")

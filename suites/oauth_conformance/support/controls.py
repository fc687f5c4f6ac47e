"""Positive controls: what a refusal means depends on whether the valid request succeeds.

A negative test reads "no code", "no token" or "refused" as the target doing its job. That
reading holds only if, on this target, the same request without the defect succeeds; when it does
not, the target broke a happy path, and that is a failure of the happy-path requirement, never a
silent not_tested. The happy paths:

- :data:`CODE_FLOW`: an approved authorization request with PKCE, and its code exchange;
- :data:`REFRESH`: a refresh with the client's current refresh token;
- :data:`RESOURCE`: a fresh access token presented to the protected resource;
- :data:`REGISTRATION`: a registration with the harness's plain client metadata;
- :data:`REVOKE_REFRESH`, :data:`REVOKE_ACCESS`: a client revoking its own live refresh or access
  token (RFC 7009 section 2.1);
- :data:`INTROSPECT`: a client introspecting its own fresh access token (RFC 7662 section 2.2).

:func:`step` sends such a request for a test that builds on it: a 5xx is asked once more (a blip
is plausible, and RFC 7009 section 2.2.1 lets a client retry after a 503), and a second 5xx or a
hang is the happy path's failure.

A valid request can end badly for two reasons, told apart here: the server broke (a 5xx, a hang,
an error redirect, an error page) and :func:`broken` says so with the requirement; or the harness
could not get through (a login it cannot pass, a client it lacks), which stays not_tested with the
profile setting that would help (``unlock``).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.support.second_ask import asked_twice
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

CODE_FLOW = "OAUTH21-4.1-CODE-FLOW"
REFRESH = "OAUTH21-4.3.2-REFRESH-VALID"
RESOURCE = "RFC6750-2.1-HEADER"
REGISTRATION = "RFC7591-3-POST-JSON"
REVOKE_REFRESH = "RFC7009-2-REFRESH"
REVOKE_ACCESS = "RFC7009-2-ACCESS"  # a SHOULD: its failure is a warning
INTROSPECT = "RFC7662-2.2-ACTIVE"
# A plain code exchange refused because the client's valid credentials were: the happy path broken
# is the client's authentication method rather than the code flow as such.
AUTHENTICATION = {
    "none": "OAUTH21-3.2.2-AUTH-METHODS",
    "client_secret_basic": "OAUTH21-3.2.2-AUTH-METHODS",
    "client_secret_post": "OAUTH21-2.4.1-SECRET-POST",
}

# Error codes a valid, approved authorization request can come back with when the harness (its
# profile, its consent driver) rather than the server is at fault, and the setting that helps.
HARNESS_ERRORS = {
    "invalid_scope": "[request] scope",
    "access_denied": "consent.form.approve (the driver's approval was read as a denial)",
    "login_required": "consent.driver",
    "consent_required": "consent.driver",
    "interaction_required": "consent.driver",
}


def broken(requirement: str, reason: str) -> PrerequisiteFailed:
    """The target broke a valid request that ``requirement`` covers."""
    return PrerequisiteFailed(reason, requirement=requirement)


def step(send: Callable[[], httpx.Response], requirement: str, what: str) -> httpx.Response:
    """The answer to a valid request a test builds on, ``what`` (a sentence's subject), unless the
    target broke it: a 5xx is asked once more, and a second 5xx or a hang fails ``requirement``.
    Any other answer is the caller's to judge (a refusal may be legitimate)."""
    try:
        response, first = asked_twice(send, lambda r: r.status_code >= 500)
    except httpx.TimeoutException as exc:
        raise broken(requirement, hang(exc, what)) from None
    if response.status_code >= 500:
        assert first is not None
        raise broken(requirement, f"{what} answered HTTP {first.status_code}, and HTTP {response.status_code} again")
    return response


def stop_fault(exc: DriverStopped) -> str | None:
    """Why a consent driver's stop on a valid request is the server's doing (None: the harness's).

    A stop with an unlock hint is the harness's (a login it cannot pass, a foreign origin); a stop
    on an error status, a redirect without Location or a redirect loop is the server's.
    """
    if exc.unlock:
        return None
    page = exc.response
    if page is None:
        return None
    status = page.status_code
    if status >= 500:
        return f"HTTP {status} from {page.url}"
    if 400 <= status != 401:
        return f"an error page (HTTP {status}) at {page.url}"
    if status in (301, 302, 303, 307, 308):
        return f"{exc.reason} (HTTP {status} at {page.url})"
    if status == 200 and "html" not in page.headers.get("content-type", ""):
        return f"HTTP 200 {page.headers.get('content-type', 'without a content type')} at {page.url}, not a page"
    return None


def hang(exc: httpx.TimeoutException, what: str) -> str:
    return f"{what} went unanswered ({type(exc).__name__})"


def error_redirect(requirement: str, error: str | None, what: str, *, from_profile: bool = False) -> NotTested:
    """A valid, approved request came back without a code: the server's fault, unless the error
    says the harness asked for something this deployment does not give it."""
    if error in HARNESS_ERRORS:
        return NotTested(f"{what} came back with error={error}", unlock=HARNESS_ERRORS[error])
    if error == "unauthorized_client" and from_profile:
        return NotTested(f"{what} came back with error={error} for the profile's client", unlock="[[clients]]")
    return broken(requirement, f"{what} came back with {'error=' + error if error else 'neither code nor error'}")


def fails_here(exc: PrerequisiteFailed, requirement: str) -> AssertionError | PrerequisiteFailed:
    """For a test of a happy path itself: a broken step is its failure; anything else passes through."""
    if exc.requirement == requirement:
        return AssertionError(exc.reason)
    return exc

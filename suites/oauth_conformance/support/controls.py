"""Positive controls: what a refusal means depends on whether the valid request succeeds.

A negative test reads "no code", "no token" or "refused" as the target doing its job. That
reading holds only if, on this target, the same request without the defect succeeds; when it does
not, the target broke a happy path, and that is a failure of the happy-path requirement, never a
silent not_tested. The happy paths:

- :data:`CODE_FLOW`: an approved authorization request with PKCE, and its code exchange;
- :data:`REFRESH`: a refresh with the client's current refresh token;
- :data:`RESOURCE`: a fresh access token presented to the protected resource;
- :data:`REGISTRATION`: a registration with the harness's plain client metadata.

A valid request can end badly for two reasons, told apart here: the server broke (a 5xx, a hang,
an error redirect, an error page) and :func:`broken` says so with the requirement; or the harness
could not get through (a login it cannot pass, a client it lacks), which stays not_tested with the
profile setting that would help (``unlock``).
"""

from __future__ import annotations

import httpx

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed

CODE_FLOW = "OAUTH21-4.1-CODE-FLOW"
REFRESH = "OAUTH21-4.3.2-REFRESH-VALID"
RESOURCE = "RFC6750-2.1-HEADER"
REGISTRATION = "RFC7591-3-POST-JSON"
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

"""Client ID metadata documents served by the harness's fixture host, and authorization attempts
with them.

:func:`documents` gives a test the fixture host (``not_tested`` when the target cannot reach it)
and the helpers below; :func:`proven_documents` first shows that a valid document works end to
end for this target (a code, then tokens), so a refusal in a negative test is a refusal of the
one thing the test changed, not of documents altogether (else ``not_tested``; CIMD-4-CODE-FLOW
reports the failure). An *attempt* walks the authorization request through the consent driver
(login included: an authorization server may fetch the document only after the user signs in)
and reports whether it came back to the client, and with what.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import PrerequisiteFailed

HAPPY_PATH = "CIMD-4-CODE-FLOW"


@dataclass
class DocumentAttempt:
    """Where an authorization request with a document client ended."""

    authorization: Authorization
    stopped: DriverStopped | None
    seconds: float

    @property
    def code(self) -> str | None:
        return self.authorization.code

    @property
    def error(self) -> str | None:
        return self.authorization.error

    @property
    def came_back(self) -> bool:
        return self.authorization.callback is not None

    def describe(self) -> str:
        if self.code:
            return "a code came back to the client"
        if self.came_back:
            return f"the client got error {self.error!r}"
        page = self.stopped.response if self.stopped is not None else None
        shown = f" (HTTP {page.status_code})" if page is not None else ""
        return f"the target stopped the request{shown}"


@dataclass
class Documents:
    host: Any  # FixtureHost or RemoteFixtureHost
    oauth: OAuth
    driver: ConsentDriver
    target: Target
    redirect_uri: str

    # ----------------------------------------------------------------------- documents
    def url(self, *, doc: dict[str, Any] | None = None, **spec: Any) -> str:
        """A document URL: a valid document listing the profile's redirect URI, changed by ``doc``
        (members) and ``spec`` (how it is served: see FixtureHost.document_route)."""
        members: dict[str, Any] = {"redirect_uris": [self.redirect_uri], **(doc or {})}
        return str(self.host.cimd_url(doc=members, **spec))

    def path(self, url: str) -> str:
        base = str(self.host.public_base_url)
        return url[len(base) :] if url.startswith(base) else url

    def hits(self, url: str) -> int:
        """How often the target fetched ``url`` (a URL on the fixture host, or a path)."""
        return int(self.host.hits_for(self.path(url)))

    def client(self, url: str, *, redirect_uri: str | None = None, auth_method: str = "none") -> Client:
        return Client(
            client_id=url, auth_method=auth_method, redirect_uri=redirect_uri or self.redirect_uri, source="document"
        )

    # ------------------------------------------------------------------------ attempts
    def attempt(self, client: Client, **params: str | None) -> DocumentAttempt:
        """An authorization request (PKCE S256) walked through the consent driver, approving."""
        verifier, challenge = pkce_pair()
        url, query = self.oauth.authorization_url(
            client, code_challenge=challenge, code_challenge_method="S256", **params
        )
        redirect_uri = query.get("redirect_uri") or client.redirect_uri
        authorization = Authorization(client, url, redirect_uri, query.get("state"), verifier, challenge, params=query)
        started = time.monotonic()
        try:
            authorization.callback = self.driver.complete(url, redirect_uri, approve=True)
            stopped = None
        except DriverStopped as exc:
            stopped = exc
        except httpx.TimeoutException:
            stopped = DriverStopped("the target did not answer in time")
        return DocumentAttempt(authorization, stopped, time.monotonic() - started)

    def redeem(self, attempt: DocumentAttempt, **overrides: str | None) -> httpx.Response:
        return self.oauth.exchange(attempt.authorization, **overrides)

    def prove(self, what: str = HAPPY_PATH) -> None:
        """A fresh valid document gets a code and tokens, else PrerequisiteFailed."""
        attempt = self.attempt(self.client(self.url()))
        if attempt.code is None:
            raise PrerequisiteFailed(f"with a valid metadata document, {attempt.describe()}; see {what}")
        response = self.redeem(attempt)
        if response.status_code != 200:
            shown = f"HTTP {response.status_code} {error_code(response) or ''}".strip()
            raise PrerequisiteFailed(f"a valid metadata document's code was not redeemed ({shown}); see {what}")


@pytest.fixture
def documents(fixture_host: Any, oauth: OAuth, driver: ConsentDriver, target: Target) -> Documents:
    return Documents(fixture_host, oauth, driver, target, target.profile.request.redirect_uri)


@pytest.fixture
def proven_documents(documents: Documents) -> Documents:
    documents.prove()
    return documents


def assert_not_proceeded(attempt: DocumentAttempt, what: str, note: Callable[[str], None]) -> None:
    """The target did not go on with the request: no code came back to the client. An error sent to
    the (unverified) redirect URI is reported as a note (OAuth 2.1 section 4.1.2.1 forbids it)."""
    __tracebackhide__ = True
    assert attempt.code is None, f"with {what}, the target went on and issued a code"
    if attempt.came_back:
        note(
            f"with {what}, the target redirected error {attempt.error!r} to a redirect URI it could not verify"
            " (see OAUTH21-4.1.2.1)"
        )


def assert_stopped(attempt: DocumentAttempt, what: str) -> None:
    """The target answered without redirecting to the client at all."""
    __tracebackhide__ = True
    assert attempt.code is None, f"with {what}, the target went on and issued a code"
    assert not attempt.came_back, f"with {what}, the target redirected to the client (error {attempt.error!r})"

"""OAuth 2.1 section 7.3.1: a public client's repeated request is not approved silently.

The consent driver keeps the user agent's cookies (``keeping_cookies``) for two authorizations of
one public client: the first goes through the login and consent pages; the second is followed
without approving anything, and must stop at a page again rather than come back with a code
because the user approved the client before. A target that shows no page even to a user agent
without a session (a test deployment approving everything) cannot show this: not_tested.
"""

from __future__ import annotations

from http.cookiejar import CookieJar
from urllib.parse import urlsplit

from oauth_conformance import requirement
from oauth_conformance.drivers import Callback
from oauth_conformance.drivers import ConsentDriver
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.drivers import Walker
from oauth_conformance.drivers import keeping_cookies
from oauth_conformance.support.clients import Client
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed
from oauth_conformance.verdicts import not_tested


def comes_back_unasked(oauth: OAuth, target: Target, client: Client, jar: CookieJar | None) -> bool:
    """Does a fresh authorization request, followed without approving any page, come back with a code?"""
    _, challenge = pkce_pair()
    url, _ = oauth.authorization_url(client, code_challenge=challenge, code_challenge_method="S256")
    origins = {_origin(target.url), _origin(target.endpoint("authorization_endpoint") or target.url)}
    walker = Walker(target.profile, origins, {}, target.transport(), jar=jar)
    try:
        ended = walker.follow(walker.http.get(url), client.redirect_uri, [])
    except DriverStopped:
        return False
    finally:
        walker.close()
    return isinstance(ended, Callback) and ended.first("code") is not None


@requirement("OAUTH21-7.3.1-NO-SILENT-REPEAT")
def test_a_public_clients_repeated_request_is_not_approved_silently(
    oauth: OAuth, clients: Clients, driver: ConsentDriver, target: Target
) -> None:
    session = keeping_cookies(driver)
    if session is None:
        not_tested(f"the {driver.name} driver cannot keep the user agent's cookies", unlock="consent.driver")
    client = clients.public()
    if comes_back_unasked(oauth, target, client, None):
        not_tested(
            "the target approves without showing any page, even without a session: it approves everything",
            unlock="a test deployment that asks for consent, and consent.driver",
        )
    _, challenge = pkce_pair()
    url, _ = oauth.authorization_url(client, code_challenge=challenge, code_challenge_method="S256")
    try:
        approved = session.complete(url, client.redirect_uri, approve=True)
    except DriverStopped as exc:
        # the driver could not get through the target's pages: a setting of the profile's, named
        raise NotTested(
            f"the first authorization did not go through: {exc.reason}", unlock=exc.unlock or "consent.driver"
        ) from None
    if approved.first("code") is None:
        raise PrerequisiteFailed(f"the first authorization came back without a code ({approved.first('error')})")
    assert not comes_back_unasked(oauth, target, client, getattr(session, "jar", None)), (
        "a second request of the same public client, in the user agent's session, came back with a code"
        " without showing any page"
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()

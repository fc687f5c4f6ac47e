"""MCP security best practices, the confused deputy: a proxy asks the user before forwarding.

The harness walks a newly registered client's authorization request hop by hop, as a user agent
would before any page is shown. A redirect to another origin (neither the server's own nor the
client's redirect URI) before any page is the forwarding the rule forbids. When a page comes
first, the consent driver answers it and the exchanges show whether the server then forwards
elsewhere: if it never does, it is no proxy and the rule does not apply.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import httpx

from oauth_conformance import requirement
from oauth_conformance.drivers import DriverStopped
from oauth_conformance.evidence import Recorder
from oauth_conformance.features import Feature
from oauth_conformance.support.attempts import REDIRECTS
from oauth_conformance.support.checks import location
from oauth_conformance.support.clients import Clients
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.target import Target
from oauth_conformance.verdicts import not_applicable


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origins(target: Target) -> set[str]:
    found = {origin(target.url), origin(target.issuer or target.url)}
    endpoint = target.endpoint("authorization_endpoint")
    if endpoint:
        found.add(origin(endpoint))
    return found


def forwarded_before_any_page(http: httpx.Client, url: str, own: set[str], redirect_uri: str) -> str | None:
    """The foreign URL the request was sent on to before any page, if it was."""
    response = http.get(url)
    for _ in range(10):
        if response.status_code not in REDIRECTS:
            return None
        hop = location(response)
        if hop is None or hop.startswith(redirect_uri.split("?", 1)[0]):
            return None
        hop = str(response.url.join(hop))
        if origin(hop) not in own:
            return hop
        response = http.get(hop)
    return None


@requirement("MCP-PROXY-CONSENT")
def test_a_new_client_is_not_forwarded_upstream_without_consent(
    oauth: OAuth, clients: Clients, target: Target, http: httpx.Client, recorder: Recorder
) -> None:
    if not target.supports(Feature.REGISTRATION):
        not_applicable("the target registers no clients dynamically, which the rule is about")
    client = clients.public()
    _, challenge = pkce_pair()
    url, query = oauth.authorization_url(client, code_challenge=challenge, code_challenge_method="S256")
    redirect_uri = str(query.get("redirect_uri") or client.redirect_uri)
    own = own_origins(target)
    forwarded = forwarded_before_any_page(http, url, own, redirect_uri)
    assert forwarded is None, (
        f"a newly registered client's authorization request was sent on to {origin(forwarded)} before any page"
        " asked the user to consent"
    )
    with contextlib.suppress(DriverStopped):  # a proxy's upstream pages are beyond the driver
        oauth.driver.complete(url, redirect_uri, approve=True)
    foreign = [
        e.url
        for e in recorder.exchanges
        if origin(e.url) not in own and not e.url.startswith(redirect_uri.split("?", 1)[0])
    ]
    hops = [e.response_headers.get("location", "") for e in recorder.exchanges]
    foreign += [h for h in hops if h.startswith("http") and origin(h) not in own and not h.startswith(redirect_uri)]
    if not foreign:
        not_applicable("the server was not seen to forward authorization requests to another server")

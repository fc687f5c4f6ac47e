"""Pushed authorization requests (RFC 9126) as a client makes them: push, then authorize by reference."""

from __future__ import annotations

from urllib.parse import urlencode
from urllib.parse import urlsplit

import httpx

from oauth_conformance.drivers import DriverStopped
from oauth_conformance.support.checks import error_code
from oauth_conformance.support.clients import Client
from oauth_conformance.support.flows import Authorization
from oauth_conformance.support.flows import OAuth
from oauth_conformance.support.flows import pkce_pair
from oauth_conformance.verdicts import NotTested
from oauth_conformance.verdicts import PrerequisiteFailed


class Pushed:
    """One pushed request: what was pushed (for the exchange later) and the server's answer."""

    def __init__(self, client: Client, params: dict[str, str | None], response: httpx.Response, verifier: str | None):
        self.client = client
        self.params = params
        self.response = response
        self.verifier = verifier

    @property
    def request_uri(self) -> str:
        """The request_uri of a 201 (else the test is not_tested: RFC9126-2.2-CREATED says why)."""
        try:
            value = self.response.json().get("request_uri") if self.response.status_code == 201 else None
        except ValueError:
            value = None
        if not isinstance(value, str) or not value:
            raise PrerequisiteFailed(
                f"a valid pushed request got HTTP {self.response.status_code} {error_code(self.response)} without a"
                " request_uri (see RFC9126-2.2-CREATED)"
            )
        return value


def endpoint(oauth: OAuth) -> str:
    url = oauth.target.endpoint("pushed_authorization_request_endpoint")
    if url is None:
        raise NotTested("the target has no pushed authorization request endpoint")
    return url


def request_params(oauth: OAuth, client: Client, **params: str | None) -> tuple[dict[str, str | None], str | None]:
    """The parameters a client pushes (what it would put in an authorization URL), and the PKCE verifier."""
    verifier: str | None
    verifier, challenge = pkce_pair()
    _, query = oauth.authorization_url(
        client, **{"code_challenge": challenge, "code_challenge_method": "S256", **params}
    )
    if query.get("code_challenge") != challenge:
        verifier = None  # the test replaced or dropped the challenge
    return query, verifier


def push(
    oauth: OAuth,
    client: Client,
    *,
    authenticate: bool = True,
    headers: dict[str, str] | None = None,
    **params: str | None,
) -> Pushed:
    """POST the request to the PAR endpoint, authenticated as at the token endpoint."""
    query, verifier = request_params(oauth, client, **params)
    form, auth = oauth.token_form(client, query, authenticate=authenticate)
    response = oauth.http.post(endpoint(oauth), data=form, headers={**auth, **(headers or {})})
    return Pushed(client, query, response, verifier)


def authorize(
    oauth: OAuth,
    pushed: Pushed,
    *,
    request_uri: str | None = None,
    client_id: str | None = None,
    extra: dict[str, str] | None = None,
) -> Authorization:
    """Send the user agent to the authorization endpoint with client_id and request_uri; where it led.

    The consent driver stopping, or the server refusing without coming back to the client, leaves
    ``callback`` None: the request yielded no code.
    """
    authorization_endpoint = oauth.target.endpoint("authorization_endpoint")
    if authorization_endpoint is None:
        raise PrerequisiteFailed("the metadata has no authorization_endpoint")
    query = {
        "client_id": client_id or pushed.client.client_id,
        "request_uri": request_uri or pushed.request_uri,
        **(extra or {}),
    }
    separator = "&" if urlsplit(authorization_endpoint).query else "?"
    url = authorization_endpoint + separator + urlencode(query)
    redirect_uri = str(pushed.params.get("redirect_uri") or pushed.client.redirect_uri)
    state = pushed.params.get("state")
    result = Authorization(pushed.client, url, redirect_uri, state, pushed.verifier, None, params=dict(query))
    try:
        result.callback = oauth.driver.complete(url, redirect_uri, approve=True)
    except DriverStopped:
        result.callback = None
    return result


def describe(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {error_code(response) or ''}".strip()
